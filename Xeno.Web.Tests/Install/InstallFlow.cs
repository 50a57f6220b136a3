using System.Net;
using Microsoft.AspNetCore.WebUtilities;
using Xeno.ShopifyServer;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Install;

/// <summary>The steps of an install as a merchant's browser and Shopify take them, for the tests to follow or to tamper with.</summary>
public sealed class InstallFlow(XenoFixture fixture)
{
    public const string Password = "install password";

    /// <summary>A new account, logged in, in a browser of its own.</summary>
    public async Task<(BrowserSession Browser, string Email)> MerchantAsync()
    {
        var browser = new BrowserSession(fixture.CreateClient());
        var email = XenoFixture.UniqueEmail("merchant");
        var (response, _) = await browser.PostFormAsync("/register", "/register", new Dictionary<string, string> { ["email"] = email, ["password"] = Password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return (browser, email);
    }

    /// <summary>The same account in a second browser (no cookie of the first).</summary>
    public async Task<BrowserSession> SecondBrowserAsync(string email)
    {
        var browser = new BrowserSession(fixture.CreateClient());
        var (response, _) = await browser.PostFormAsync("/login", "/login", new Dictionary<string, string> { ["email"] = email, ["password"] = Password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return browser;
    }

    /// <summary>Starts the install on Xeno, lets Shopify's authorize page approve it (the test server approves at once),
    /// and returns the callback address (path and query) Shopify sends the browser back to.</summary>
    public async Task<string> ApproveAsync(BrowserSession browser, string domain)
    {
        var (start, _) = await browser.GetAsync($"/stores/install?shop={domain}");
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        var authorize = start.Headers.Location!;
        Assert.StartsWith(fixture.Shopify.Origin + "/" + domain + "/admin/oauth/authorize?", authorize.AbsoluteUri);
        var query = QueryHelpers.ParseQuery(authorize.Query);
        Assert.Equal(fixture.Shopify.State.DefaultApp.ClientId, query["client_id"]);
        Assert.Equal("read_products,read_customers,read_orders,read_all_orders", query["scope"]);
        Assert.Equal(XenoFixture.PublicUrl + "/auth/shopify/callback", query["redirect_uri"]);
        // The browser's half of the state: a cookie scripts cannot read, sent only to the callback, for ten minutes.
        var cookie = start.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("xeno_install=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("httponly", cookie);
        Assert.Contains("path=/auth/shopify/callback", cookie);
        Assert.Contains("max-age=600", cookie);

        using var shopify = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var approved = await shopify.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Found, approved.StatusCode);
        var callback = approved.Headers.Location!;
        Assert.StartsWith(XenoFixture.PublicUrl + "/auth/shopify/callback?", callback.AbsoluteUri);
        return callback.PathAndQuery;
    }

    /// <summary>Installs end to end and returns the store's id (from the redirect to its dashboard).</summary>
    public async Task<Guid> InstallAsync(BrowserSession browser, string domain)
    {
        var (done, _) = await browser.GetAsync(await ApproveAsync(browser, domain));
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        var location = done.Headers.Location!.OriginalString;
        Assert.Matches("^/stores/[0-9a-f-]{36}$", location);
        return Guid.Parse(location["/stores/".Length..]);
    }

    /// <summary>The callback with some parameters changed and signed again with Xeno's app secret, as only Shopify could.</summary>
    public static string Resign(string callback, Action<Dictionary<string, string>> change)
    {
        var uri = new Uri("http://xeno.test" + callback);
        var query = QueryHelpers.ParseQuery(uri.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        change(query);
        query.Remove("hmac");
        query["hmac"] = ShopifyOAuth.SignQuery(query, XenoFixture.WebhookSecret);
        return uri.AbsolutePath + QueryString(query);
    }

    public static string QueryString(IEnumerable<KeyValuePair<string, string>> query) =>
        "?" + string.Join('&', query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
