using System.Net;
using System.Net.Http.Headers;
using Alba;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Hardening;

/// <summary>What an attacker could do before: take the database down with extreme dates, bounce a visitor to another
/// site, hash passwords without end, probe which shops use Xeno, keep a session for ever, slip a bearer token into pages.</summary>
[Collection(XenoCollection.Name)]
public sealed class HardeningTests(XenoFixture fixture)
{
    private IAlbaHost Host => fixture.Host;

    [Theory]
    [InlineData("daily?from=9999-12-31&to=9999-12-31")]
    [InlineData("summary?from=0001-01-01&to=0001-01-02")]
    [InlineData("top-customers?from=1999-12-31&to=2000-01-30")]
    [InlineData("segments?asOf=9999-12-31")]
    [InlineData("segments?asOf=0001-01-01")]
    public async Task dates_outside_a_sane_window_answer_400(string query)
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        var result = await Host.Scenario(s =>
        {
            s.Get.Url($"/api/v1/stores/{store.Id}/metrics/{query}");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(400);
        });
        Assert.Contains("between 2000-01-01", await result.ReadAsTextAsync());
    }

    [Fact]
    public async Task a_dashboard_range_from_year_one_shows_the_default_range_instead_of_failing()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(token);
        var (response, _) = await browser.GetAsync($"/stores/{store.Id}?range=custom&from=0001-01-01&to=0001-01-31");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task requests_and_jobs_run_under_a_statement_timeout()
    {
        // Xeno's connections, and anyone logging in with the app or secrets role's credentials alone (no options).
        foreach (var connectionString in new[]
        {
            fixture.AppConnectionString,
            new NpgsqlConnectionStringBuilder(fixture.AppConnectionString) { Options = null }.ConnectionString,
            new NpgsqlConnectionStringBuilder(fixture.SecretsConnectionString) { Options = null }.ConnectionString,
        })
        {
            await using var conn = new NpgsqlConnection(connectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SHOW statement_timeout", conn);
            Assert.Equal("30s", await cmd.ExecuteScalarAsync());
        }
    }

    [Theory]
    [InlineData("/%09/evil.example", "/stores")]
    [InlineData("//evil.example", "/stores")]
    [InlineData("/\\evil.example", "/stores")]
    [InlineData("https://evil.example/", "/stores")]
    [InlineData("/é", "/%C3%A9")]
    [InlineData("/stores/x?y=1", "/stores/x?y=1")]
    public async Task login_returns_only_to_local_paths(string returnUrl, string expected)
    {
        var email = XenoFixture.UniqueEmail();
        await fixture.Host.Scenario(s => { s.Post.Json(new { email, password = "a fine password" }).ToUrl("/api/v1/auth/register"); s.StatusCodeShouldBe(201); });
        var browser = new BrowserSession(fixture.CreateClient());
        var (response, _) = await browser.PostFormAsync("/login", "/login",
            new Dictionary<string, string> { ["email"] = email, ["password"] = "a fine password", ["returnUrl"] = Uri.UnescapeDataString(returnUrl) });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task registering_is_throttled_per_client()
    {
        // Three registrations allowed: the fourth from the same client waits, another client does not.
        await using (var scope = Host.Services.CreateAsyncScope())
        {
            var limited = new LoginThrottling(scope.ServiceProvider.GetRequiredService<XenoDb>(), TimeProvider.System,
                new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Auth:RegistrationsPerClient"] = "3" }).Build());
            var client = "198.51.100." + Random.Shared.Next(1, 250);
            for (var i = 0; i < 3; i++) Assert.Null(await limited.RegistrationAsync(client));
            Assert.NotNull(await limited.RegistrationAsync(client));
            Assert.Null(await limited.RegistrationAsync(client + "0"));
        }

        // Over the limit, the API answers 429 with Retry-After before hashing anything.
        var busy = IPAddress.Parse("203.0.113." + Random.Shared.Next(1, 250));
        await using (var conn = new NpgsqlConnection(fixture.OwnerConnectionString))
        {
            await conn.OpenAsync();
            await using var full = new NpgsqlCommand(
                "INSERT INTO login_throttles (key, window_start, failures) VALUES (@k, now(), 2000000) ON CONFLICT (key) DO UPDATE SET failures = 2000000, window_start = now()", conn);
            full.Parameters.AddWithValue("k", "register:" + busy);
            await full.ExecuteNonQueryAsync();
        }
        var email = XenoFixture.UniqueEmail();
        var throttled = await Host.Scenario(s =>
        {
            s.Post.Json(new { email, password = "a fine password" }).ToUrl("/api/v1/auth/register");
            s.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = busy);
            s.StatusCodeShouldBe(429);
        });
        Assert.False(string.IsNullOrEmpty(throttled.Context.Response.Headers.RetryAfter.ToString()));
        Assert.Equal(0L, Convert.ToInt64(await OwnerScalarAsync($"SELECT count(*) FROM users WHERE email = '{email}'")));
    }

    [Fact]
    public async Task a_wrong_token_for_a_shop_another_account_has_says_422_not_409()
    {
        var (_, alice) = await fixture.RegisterAsync();
        var (_, mallory) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        await fixture.ConnectStoreAsync(alice, domain, shopToken);
        await Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = domain, accessToken = "shpat_guess" }).ToUrl("/api/v1/stores");
            s.WithBearerToken(mallory);
            s.StatusCodeShouldBe(422);
        });
        await Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = domain + "\n", accessToken = shopToken }).ToUrl("/api/v1/stores");
            s.WithBearerToken(mallory);
            s.StatusCodeShouldBe(422);
        });
    }

    [Fact]
    public async Task a_session_ends_at_its_absolute_lifetime_however_often_it_was_renewed()
    {
        var (email, _) = await fixture.RegisterAsync();
        var tokens = Host.Services.GetRequiredService<JwtTokens>();
        User user;
        await using (var scope = Host.Services.CreateAsyncScope())
            user = scope.ServiceProvider.GetRequiredService<XenoDb>().Users.Single(u => u.Email == email);
        var renewed = tokens.Issue(user, signedInAt: DateTimeOffset.UtcNow.AddHours(-11));
        await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken(renewed.Token); s.StatusCodeShouldBeOk(); });
        var stale = tokens.Issue(user, signedInAt: DateTimeOffset.UtcNow.AddHours(-13));
        await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken(stale.Token); s.StatusCodeShouldBe(401); });
    }

    [Fact]
    public async Task pages_do_not_take_a_bearer_token_instead_of_the_session_cookie()
    {
        var (_, token) = await fixture.RegisterAsync();
        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/stores");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task pages_carry_a_strict_content_security_policy_and_the_other_headers()
    {
        var result = await Host.Scenario(s => s.Get.Url("/login"));
        var headers = result.Context.Response.Headers;
        var csp = headers.ContentSecurityPolicy.ToString();
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal("nosniff", headers.XContentTypeOptions.ToString());
        Assert.Equal("strict-origin-when-cross-origin", headers["Referrer-Policy"].ToString());
        // HSTS only behind TLS: over plain HTTP the header would be ignored, and it must not pin a local http:// Xeno.
        Assert.False(headers.ContainsKey("Strict-Transport-Security"));
        var secure = await Host.Scenario(s => { s.Get.Url("/login"); s.ConfigureHttpContext(c => c.Request.Scheme = "https"); });
        Assert.Equal("max-age=31536000; includeSubDomains", secure.Context.Response.Headers.StrictTransportSecurity.ToString());
    }

    [Fact]
    public async Task a_previous_app_secret_without_an_expiry_stops_xeno_at_start()
    {
        var (exit, output) = await XenoStartAsync(("Shopify__PreviousApiSecret", "old"), ("ASPNETCORE_ENVIRONMENT", "Testing"));
        Assert.NotEqual(0, exit);
        Assert.Contains("Shopify__PreviousApiSecretExpiresAt", output);
    }

    [Fact]
    public async Task production_without_the_apps_credentials_stops_xeno_at_start()
    {
        var (exit, output) = await XenoStartAsync(("ASPNETCORE_ENVIRONMENT", "Production"));
        Assert.NotEqual(0, exit);
        Assert.Contains("Shopify__ApiKey is required in production", output);
        Assert.Contains("App__PublicUrl is required in production", output);
        Assert.Contains("DataProtection__KeyEncryptionKey is required", output);
    }

    [Theory]
    [InlineData("not base64!", "DataProtection__KeyEncryptionKey must be base64")]
    [InlineData("c2hvcnQ=", "DataProtection__KeyEncryptionKey must hold exactly 32 bytes")]
    public async Task a_missing_or_malformed_key_encryption_key_stops_xeno_at_start(string kek, string message)
    {
        var (exit, output) = await XenoStartAsync(("ASPNETCORE_ENVIRONMENT", "Testing"), ("DataProtection__KeyEncryptionKey", kek));
        Assert.NotEqual(0, exit);
        Assert.Contains(message, output);
    }

    /// <summary>Xeno started as a process of its own with the given settings (and nothing else), until it exits.</summary>
    private static Task<(int Exit, string Output)> XenoStartAsync(params (string Key, string Value)[] settings) =>
        XenoProcess.RunAsync("--urls http://127.0.0.1:0", settings.Prepend(("ConnectionStrings__Xeno", "Host=127.0.0.1;Port=1;Database=none;Username=none")));

    private async Task<object?> OwnerScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(fixture.OwnerConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }
}
