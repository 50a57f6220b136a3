using System.Net;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Auth;

[Collection(XenoCollection.Name)]
public sealed class PageAuthTests(XenoFixture fixture)
{
    private BrowserSession NewBrowser() => new(fixture.CreateClient());

    [Fact]
    public async Task registering_on_the_page_signs_in_with_a_secure_httponly_lax_cookie()
    {
        var browser = NewBrowser();
        var (response, _) = await browser.PostFormAsync("/register", "/register",
            new Dictionary<string, string> { ["email"] = XenoFixture.UniqueEmail(), ["password"] = "page password" });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/stores", response.Headers.Location!.OriginalString);
        var cookie = browser.SetCookieHeaders.Single(h => h.StartsWith("xeno_auth="));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);

        var (stores, html) = await browser.GetAsync("/stores");
        Assert.Equal(HttpStatusCode.OK, stores.StatusCode);
        Assert.Contains("Install Xeno on your shop", html);
    }

    [Fact]
    public async Task a_page_asked_without_a_session_redirects_to_login()
    {
        var (response, _) = await NewBrowser().GetAsync("/stores");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login?returnUrl=%2Fstores", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task a_form_posted_without_its_antiforgery_token_is_rejected_and_changes_nothing()
    {
        var email = XenoFixture.UniqueEmail();
        var browser = NewBrowser();
        await browser.GetAsync("/register"); // has the antiforgery cookie, but not the form's token
        var (response, _) = await browser.PostRawAsync("/register", new Dictionary<string, string> { ["email"] = email, ["password"] = "page password" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        await fixture.Host.Scenario(s =>
        {
            s.Post.Json(new { email, password = "page password" }).ToUrl("/api/v1/auth/login");
            s.StatusCodeShouldBe(401); // the account was never created
        });
    }

    [Fact]
    public async Task login_page_shows_one_message_for_wrong_credentials_and_signs_in_with_right_ones()
    {
        var (email, _) = await fixture.RegisterAsync("the right one");
        var browser = NewBrowser();
        var (wrong, html) = await browser.PostFormAsync("/login", "/login", new Dictionary<string, string> { ["email"] = email, ["password"] = "the wrong one" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("Wrong email or password.", html);
        Assert.False(browser.Cookies.ContainsKey("xeno_auth"));

        var (right, _) = await browser.PostFormAsync("/login", "/login?returnUrl=%2Faccount",
            new Dictionary<string, string> { ["email"] = email, ["password"] = "the right one", ["returnUrl"] = "/account" });
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/account", right.Headers.Location!.OriginalString);
        var (account, accountHtml) = await browser.GetAsync("/account");
        Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        Assert.Contains(email, accountHtml);
    }

    [Fact]
    public async Task login_never_redirects_to_another_site()
    {
        var (email, _) = await fixture.RegisterAsync("the right one");
        var (right, _) = await NewBrowser().PostFormAsync("/login", "/login",
            new Dictionary<string, string> { ["email"] = email, ["password"] = "the right one", ["returnUrl"] = "//evil.example/steal" });
        Assert.Equal("/stores", right.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task logging_out_ends_the_session_on_every_device()
    {
        var (email, _) = await fixture.RegisterAsync("the right one");
        var laptop = NewBrowser();
        var phone = NewBrowser();
        foreach (var browser in new[] { laptop, phone })
            await browser.PostFormAsync("/login", "/login", new Dictionary<string, string> { ["email"] = email, ["password"] = "the right one" });

        var (logout, _) = await laptop.PostFormAsync("/logout", "/logout", new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);

        var (phonePage, _) = await phone.GetAsync("/stores");
        Assert.Equal(HttpStatusCode.Redirect, phonePage.StatusCode);
        Assert.StartsWith("/login", phonePage.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task htmx_requests_without_a_session_are_told_to_redirect()
    {
        var (response, _) = await NewBrowser().GetAsync("/stores", htmx: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("/login", response.Headers.GetValues("HX-Redirect").Single());
    }
}
