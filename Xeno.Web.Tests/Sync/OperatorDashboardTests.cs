using System.Net;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Sync;

[Collection(XenoCollection.Name)]
public sealed class OperatorDashboardTests(XenoFixture fixture)
{
    [Fact]
    public async Task the_job_dashboard_is_closed_to_merchants()
    {
        var (anonymous, _) = await new BrowserSession(fixture.CreateClient()).GetAsync("/hangfire");
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);

        var merchant = await SignedUpAsync(XenoFixture.UniqueEmail(), "merchant password");
        var (response, html) = await merchant.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("Xeno jobs", html);
    }

    [Fact]
    public async Task an_operator_is_made_only_by_the_command_which_locks_out_whoever_registered_the_address_first()
    {
        // A stranger registers the address an operator is about to be given: that alone opens nothing.
        var email = XenoFixture.UniqueEmail("ops");
        var stranger = await SignedUpAsync(email, "stranger's password");
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync("/hangfire")).Response.StatusCode);

        var (exit, output) = await OperatorCommandAsync("grant", email);
        Assert.True(exit == 0, output);
        var password = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("Sign in at /login")).Split(": ")[^1];

        // The grant ended the stranger's session and replaced their password.
        Assert.Equal(HttpStatusCode.Redirect, (await stranger.GetAsync("/hangfire")).Response.StatusCode);
        var (strangerLogin, _) = await new BrowserSession(fixture.CreateClient())
            .PostFormAsync("/login", "/login", new Dictionary<string, string> { ["email"] = email, ["password"] = "stranger's password" });
        Assert.Equal(HttpStatusCode.Unauthorized, strangerLogin.StatusCode);

        // Whoever ran the command signs in with the printed password, and may look but not change (read-only by default).
        var op = new BrowserSession(fixture.CreateClient());
        var (login, _) = await op.PostFormAsync("/login", "/login", new Dictionary<string, string> { ["email"] = email, ["password"] = password });
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var (response, html) = await op.GetAsync("/hangfire/recurring");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Xeno jobs", html);
        Assert.Contains("incremental-sync", html); // the recurring jobs are listed...
        Assert.DoesNotContain("recurring/trigger", html); // ...without the buttons that run or delete them
        // and a hand-made request to run one, past the antiforgery check (a token from one of Xeno's forms), is refused
        // by the read-only rule: 401 (a missing token would be 403, and a writable dashboard answers 204).
        var (refused, _) = await op.PostFormAsync("/hangfire/recurring/trigger", "/account", new Dictionary<string, string> { ["jobs[]"] = "incremental-sync" });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // Revoked: out at once, even with a session still valid.
        Assert.Equal(0, (await OperatorCommandAsync("revoke", email)).Exit);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.GetAsync("/hangfire")).Response.StatusCode);
    }

    [Fact]
    public async Task the_operator_command_refuses_what_it_cannot_do()
    {
        var (exit, output) = await OperatorCommandAsync("grant", "not-an-email");
        Assert.Equal(2, exit);
        Assert.Contains("Usage: operator grant EMAIL", output);
    }

    private async Task<BrowserSession> SignedUpAsync(string email, string password)
    {
        var session = new BrowserSession(fixture.CreateClient());
        var (response, _) = await session.PostFormAsync("/register", "/register", new Dictionary<string, string> { ["email"] = email, ["password"] = password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return session;
    }

    /// <summary>The command as an operator runs it: Xeno's own binary, with the owner's connection and the KEK.</summary>
    private Task<(int Exit, string Output)> OperatorCommandAsync(string verb, string email) =>
        XenoProcess.RunAsync($"operator {verb} {email}",
        [
            ("ASPNETCORE_ENVIRONMENT", "Testing"),
            ("ConnectionStrings__Xeno", fixture.OwnerConnectionString),
            ("DataProtection__KeyEncryptionKey", XenoFixture.KeyEncryptionKey),
        ]);
}
