using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Xeno.ShopifyServer.Tests;

public class OAuthTests
{
    [Fact]
    public void query_signature_matches_shopifys_documented_vector()
    {
        var query = new Dictionary<string, string>
        {
            ["shop"] = "some-shop.myshopify.com",
            ["timestamp"] = "1337178173",
            ["hmac"] = "ignored",
            ["code"] = "0907a61c0c8d55e99db179b68161bc00",
        };
        const string expected = "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20";
        Assert.Equal(expected, ShopifyOAuth.SignQuery(query, "hush"));
        query["hmac"] = expected;
        Assert.True(ShopifyOAuth.VerifyQuery(query, "hush"));
        Assert.False(ShopifyOAuth.VerifyQuery(query, "hush!"));

        // Escaped as Node's querystring.escape: !~*'() stay, everything else outside A-Z a-z 0-9 -_. is %XX of UTF-8.
        var odd = new Dictionary<string, string> { ["state"] = "a b&c=d!~*'()é/", ["signature"] = "dropped" };
        var message = "state=a%20b%26c%3Dd!~*'()%C3%A9%2F";
        Assert.Equal(Convert.ToHexStringLower(HMACSHA256.HashData("hush"u8, Encoding.UTF8.GetBytes(message))), ShopifyOAuth.SignQuery(odd, "hush"));
    }

    [Fact]
    public async Task authorize_shows_a_consent_page_whose_form_installs_the_app()
    {
        await using var h = await OAuthHarness.StartAsync("consent.myshopify.com");
        using var page = await h.Http.GetAsync(h.AuthorizeUrl(scope: "read_products,read_all_orders") + "&grant_options[]=per-user");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.StartsWith("<!doctype html>", html);
        Assert.Contains("<html lang=\"en\">", html);
        Assert.Contains("<title>Install Xeno on Acme Outfitters</title>", html);
        Assert.Contains("<h1>Install Xeno on Acme Outfitters</h1>", html);
        Assert.Contains("View products", html);
        Assert.Contains("View all orders", html);
        Assert.Contains("<button type=\"submit\" id=\"install\">Install app</button>", html);
        Assert.Contains(">Cancel</a>", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());

        var form = Regex.Match(html, "<form method=\"post\" action=\"([^\"]+)\"");
        Assert.True(form.Success);
        Assert.Equal("/consent.myshopify.com/admin/oauth/authorize", WebUtility.HtmlDecode(form.Groups[1].Value));
        var hidden = Regex.Matches(html, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")
            .Select(m => new KeyValuePair<string, string>(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value)))
            .ToList();
        Assert.Contains(new KeyValuePair<string, string>("redirect_uri", OAuthHarness.RedirectUri), hidden);
        Assert.Contains(new KeyValuePair<string, string>("state", "nonce-1"), hidden);
        Assert.Contains(new KeyValuePair<string, string>("grant_options[]", "per-user"), hidden);

        // Clicking "Install app" posts the hidden fields back.
        using var installed = await h.Http.PostAsync(h.Server.Origin + WebUtility.HtmlDecode(form.Groups[1].Value), new FormUrlEncodedContent(hidden));
        Assert.Equal(HttpStatusCode.Found, installed.StatusCode);
        var location = installed.Headers.Location!;
        Assert.StartsWith(OAuthHarness.RedirectUri + "?", location.ToString());
        var callback = OAuthHarness.Query(location);
        Assert.True(ShopifyOAuth.VerifyQuery(callback, h.App.ClientSecret));
        var (status, token) = await h.ExchangeAsync(callback["code"], expiring: false);
        Assert.Equal(200, status);
        Assert.Equal("read_products,read_all_orders", token.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task auto_approve_redirects_at_once_with_a_query_signed_as_shopify_does()
    {
        await using var h = await OAuthHarness.StartAsync("auto.myshopify.com");
        var callback = await h.ApproveAsync();

        Assert.Equal(["code", "hmac", "host", "shop", "state", "timestamp"], callback.Keys.Order(StringComparer.Ordinal));
        Assert.Matches("^[0-9a-f]{32}$", callback["code"]);
        Assert.Equal("auto.myshopify.com", callback["shop"]);
        Assert.Equal("nonce-1", callback["state"]);
        Assert.Equal(OAuthHarness.Start.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), callback["timestamp"]);
        Assert.Equal("admin.shopify.com/store/auto", Encoding.UTF8.GetString(Convert.FromBase64String(callback["host"] + "==")));
        Assert.DoesNotContain("=", callback["host"]);
        Assert.Equal(callback["hmac"], ShopifyOAuth.SignQuery(callback, h.App.ClientSecret));

        var forged = new Dictionary<string, string>(callback) { ["shop"] = "evil.myshopify.com" };
        Assert.False(ShopifyOAuth.VerifyQuery(forged, h.App.ClientSecret));
        Assert.False(ShopifyOAuth.VerifyQuery(callback, h.State.AppSecret));
    }

    [Fact]
    public async Task authorize_refuses_an_unknown_shop_client_or_redirect_uri()
    {
        await using var h = await OAuthHarness.StartAsync("refuse.myshopify.com");
        h.State.OAuth.AutoApprove = true;

        using var noShop = await h.Http.GetAsync(h.AuthorizeUrl(domain: "nowhere.myshopify.com"));
        Assert.Equal(HttpStatusCode.NotFound, noShop.StatusCode);
        Assert.Contains("There's no page at this address", WebUtility.HtmlDecode(await noShop.Content.ReadAsStringAsync()));

        using var noClient = await h.Http.GetAsync(h.AuthorizeUrl(clientId: "stranger"));
        Assert.Equal(HttpStatusCode.BadRequest, noClient.StatusCode);
        Assert.Contains("Could not find Shopify API application with api_key stranger", await noClient.Content.ReadAsStringAsync());

        using var elsewhere = await h.Http.GetAsync(h.AuthorizeUrl(redirectUri: "https://evil.example/auth/shopify/callback"));
        Assert.Equal(HttpStatusCode.BadRequest, elsewhere.StatusCode);
        Assert.Contains("The redirect_uri is not whitelisted", await elsewhere.Content.ReadAsStringAsync());

        using var longer = await h.Http.GetAsync(h.AuthorizeUrl(redirectUri: OAuthHarness.RedirectUri + "/more"));
        Assert.Equal(HttpStatusCode.BadRequest, longer.StatusCode);

        using var trailingSlash = await h.Http.GetAsync(h.AuthorizeUrl(redirectUri: OAuthHarness.RedirectUri + "/"));
        Assert.Equal(HttpStatusCode.Found, trailingSlash.StatusCode);
    }

    [Fact]
    public async Task code_exchange_gives_an_expiring_pair_or_a_permanent_token_and_each_code_works_once()
    {
        await using var h = await OAuthHarness.StartAsync("exchange.myshopify.com");
        var code = (await h.ApproveAsync())["code"];
        var (status, body) = await h.ExchangeAsync(code);
        Assert.Equal(200, status);
        Assert.Equal(["access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "scope"],
            body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var access = body.GetProperty("access_token").GetString()!;
        Assert.Matches("^shpat_[0-9a-f]{32}$", access);
        Assert.Matches("^shprt_[0-9a-f]{32}$", body.GetProperty("refresh_token").GetString()!);
        Assert.Equal("read_products,read_orders", body.GetProperty("scope").GetString());
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt32());
        Assert.Equal(90 * 86_400, body.GetProperty("refresh_token_expires_in").GetInt32());
        Assert.Equal(200, await h.ApiStatusAsync(access));

        var replay = await h.ExchangeAsync(code);
        Assert.Equal(400, replay.Status);
        Assert.Equal("invalid_grant", OAuthHarness.Error(replay));

        // Without expiring: one token that never expires. Form-encoded, as older clients send it.
        var second = (await h.ApproveAsync())["code"];
        var permanent = await h.TokenAsync(new() { ["client_id"] = h.App.ClientId, ["client_secret"] = h.App.ClientSecret, ["code"] = second }, form: true);
        Assert.Equal(200, permanent.Status);
        Assert.Equal(["access_token", "scope"], permanent.Body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var permanentToken = permanent.Body.GetProperty("access_token").GetString()!;

        h.Clock.Now = OAuthHarness.Start.AddHours(1);
        Assert.Equal(401, await h.ApiStatusAsync(access));
        Assert.False(h.State.IsValidToken(h.Domain, access));
        Assert.Equal(200, await h.ApiStatusAsync(permanentToken));

        // A code lives 10 minutes and belongs to the app it was issued to.
        var late = (await h.ApproveAsync())["code"];
        h.Clock.Now = h.Clock.Now.AddMinutes(10);
        Assert.Equal("invalid_grant", OAuthHarness.Error(await h.ExchangeAsync(late)));
        var other = new ShopifyApp { ClientId = "other-app", ClientSecret = "other-secret", RedirectUris = [OAuthHarness.RedirectUri] };
        h.State.AddApp(other);
        var othersCode = (await h.ApproveAsync(clientId: "other-app"))["code"];
        Assert.Equal("invalid_grant", OAuthHarness.Error(await h.ExchangeAsync(othersCode)));
    }

    [Fact]
    public async Task wrong_client_credentials_get_401_and_the_previous_secret_still_works()
    {
        await using var h = await OAuthHarness.StartAsync("secret.myshopify.com");
        var code = (await h.ApproveAsync())["code"];

        var wrong = await h.ExchangeAsync(code, secret: "guess");
        Assert.Equal(401, wrong.Status);
        Assert.Equal("invalid_client", OAuthHarness.Error(wrong));
        Assert.True(wrong.Body.TryGetProperty("error_description", out _));
        var unknown = await h.TokenAsync(new() { ["client_id"] = "stranger", ["client_secret"] = "x", ["code"] = code });
        Assert.Equal((401, "invalid_client"), (unknown.Status, OAuthHarness.Error(unknown)));
        var noShop = await h.TokenAsync(new() { ["client_id"] = h.App.ClientId, ["client_secret"] = h.App.ClientSecret, ["code"] = code }, domain: "nowhere.myshopify.com");
        Assert.Equal(404, noShop.Status);
        Assert.Equal("Not Found", noShop.Body.GetProperty("errors").GetString());

        h.App.RotateSecret("shpss_rotated");
        Assert.Equal(200, (await h.ExchangeAsync(code, secret: "shpss_public")).Status);

        var odd = await h.TokenAsync(new() { ["client_id"] = h.App.ClientId, ["client_secret"] = h.App.ClientSecret, ["grant_type"] = "password" });
        Assert.Equal((400, "unsupported_grant_type"), (odd.Status, OAuthHarness.Error(odd)));
        var missing = await h.TokenAsync(new() { ["client_id"] = h.App.ClientId, ["client_secret"] = h.App.ClientSecret });
        Assert.Equal((400, "invalid_request"), (missing.Status, OAuthHarness.Error(missing)));
    }

    [Fact]
    public async Task a_used_refresh_token_stays_usable_until_its_replacement_is_used_then_reuse_revokes_the_install()
    {
        await using var h = await OAuthHarness.StartAsync("rotate.myshopify.com");
        var (a1, r1) = await h.InstallAsync();

        var first = await h.RefreshAsync(r1);
        Assert.Equal(200, first.Status);
        var (a2, r2) = Pair(first.Body);
        Assert.NotEqual(r1, r2);
        Assert.Equal(3600, first.Body.GetProperty("expires_in").GetInt32());
        Assert.Equal(90 * 86_400, first.Body.GetProperty("refresh_token_expires_in").GetInt32());
        Assert.Equal(200, await h.ApiStatusAsync(a1)); // the old access token lives out its hour

        // The response was lost, say: R1 again, while A2 and R2 are unused, gives a fresh pair and retires A2/R2.
        var retry = await h.RefreshAsync(r1);
        Assert.Equal(200, retry.Status);
        var (a3, r3) = Pair(retry.Body);
        Assert.Equal(401, await h.ApiStatusAsync(a2));
        Assert.Equal("invalid_grant", OAuthHarness.Error(await h.RefreshAsync(r2)));
        Assert.Equal(0, h.State.OAuth.SpentRefreshTokenUses);

        // Once A3 is in use, R1 is spent: presenting it is refused, counted, and revokes every token of the install.
        Assert.Equal(200, await h.ApiStatusAsync(a3));
        var reuse = await h.RefreshAsync(r1);
        Assert.Equal((400, "invalid_grant"), (reuse.Status, OAuthHarness.Error(reuse)));
        Assert.Equal(1, h.State.OAuth.SpentRefreshTokenUses);
        Assert.Equal(401, await h.ApiStatusAsync(a3));
        Assert.Equal(401, await h.ApiStatusAsync(a1));
        Assert.Equal("invalid_grant", OAuthHarness.Error(await h.RefreshAsync(r3)));

        var refreshes = h.State.OAuth.TokenRequests.Where(r => r.GrantType == "refresh_token").ToList();
        Assert.Equal(2, refreshes.Count(r => r.Succeeded));
        Assert.Equal(3, refreshes.Count(r => r.Error == "invalid_grant"));
        Assert.All(h.State.OAuth.TokenRequests, r => Assert.Equal((h.Domain, h.App.ClientId), (r.ShopDomain, r.ClientId)));
    }

    [Fact]
    public async Task redeeming_the_replacement_spends_the_old_refresh_token_and_expired_ones_are_refused()
    {
        await using var h = await OAuthHarness.StartAsync("chain.myshopify.com");
        var (_, r1) = await h.InstallAsync();
        var (_, r2) = Pair((await h.RefreshAsync(r1)).Body);
        var (a3, r3) = Pair((await h.RefreshAsync(r2)).Body);

        Assert.Equal("invalid_grant", OAuthHarness.Error(await h.RefreshAsync(r1)));
        Assert.Equal(1, h.State.OAuth.SpentRefreshTokenUses);
        Assert.Equal(401, await h.ApiStatusAsync(a3));
        Assert.Equal("invalid_grant", OAuthHarness.Error(await h.RefreshAsync(r3)));

        var (_, fresh) = await h.InstallAsync();
        h.Clock.Now = h.Clock.Now.AddDays(90);
        Assert.Equal("invalid_grant", OAuthHarness.Error(await h.RefreshAsync(fresh)));
        Assert.Equal(1, h.State.OAuth.SpentRefreshTokenUses);
    }

    [Fact]
    public async Task concurrent_refreshes_with_one_token_all_succeed_and_leave_exactly_one_live_pair()
    {
        await using var h = await OAuthHarness.StartAsync("race.myshopify.com");
        var (_, r1) = await h.InstallAsync();
        using var start = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await h.RefreshAsync(r1);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(workers);

        Assert.All(results, r => Assert.Equal(200, r.Status));
        var pairs = results.Select(r => Pair(r.Body)).ToList();
        var live = pairs.Where(p => h.State.IsValidToken(h.Domain, p.Access)).ToList();
        var winner = Assert.Single(live);
        foreach (var loser in pairs.Where(p => p != winner))
            Assert.Equal("invalid_grant", OAuthHarness.Error(await h.RefreshAsync(loser.Refresh)));
        Assert.Equal(200, (await h.RefreshAsync(winner.Refresh)).Status);
        Assert.Equal(0, h.State.OAuth.SpentRefreshTokenUses);
        Assert.Equal(7, h.State.OAuth.TokenRequests.Count(r => r.GrantType == "refresh_token" && r.Succeeded));
    }

    [Fact]
    public async Task expired_access_tokens_get_401_with_shopifys_body()
    {
        await using var h = await OAuthHarness.StartAsync("expire.myshopify.com");
        h.State.AddToken(h.Domain, "shpat_by_hand");
        h.State.AddToken(h.Domain, "shpat_for_an_hour", h.App, OAuthHarness.Start.AddHours(1));
        Assert.Equal(200, await h.ApiStatusAsync("shpat_by_hand"));
        Assert.Equal(200, await h.ApiStatusAsync("shpat_for_an_hour"));

        h.State.ExpireAccessToken("shpat_by_hand");
        using var api = new ShopifyApi(h.Server, h.Domain, "shpat_by_hand");
        var (status, body, _) = await api.PostAsync("{ shop { name } }");
        Assert.Equal(401, status);
        Assert.Equal(AdminApiEndpoints.InvalidTokenBody, body.GetRawText());

        h.Clock.Now = OAuthHarness.Start.AddMinutes(59);
        Assert.Equal(200, await h.ApiStatusAsync("shpat_for_an_hour"));
        h.Clock.Now = OAuthHarness.Start.AddHours(1);
        Assert.Equal(401, await h.ApiStatusAsync("shpat_for_an_hour"));
        Assert.Throws<KeyNotFoundException>(() => h.State.ExpireAccessToken("shpat_unknown"));
    }

    [Fact]
    public async Task client_credentials_work_only_for_a_dev_dashboard_app_of_the_shops_own_organization()
    {
        await using var h = await OAuthHarness.StartAsync("own.myshopify.com");
        var own = new ShopifyApp { ClientId = "own-app", ClientSecret = "own-secret", Kind = ShopifyAppKind.DevDashboard, OrganizationId = h.Shop.OrganizationId };
        var foreign = new ShopifyApp { ClientId = "foreign-app", ClientSecret = "foreign-secret", Kind = ShopifyAppKind.DevDashboard, OrganizationId = "org-elsewhere" };
        h.State.AddApp(own);
        h.State.AddApp(foreign);
        Dictionary<string, object?> Fields(ShopifyApp app) => new() { ["grant_type"] = "client_credentials", ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret };

        var (status, body) = await h.TokenAsync(Fields(own), form: true);
        Assert.Equal(200, status);
        Assert.Equal(["access_token", "expires_in", "scope"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(86_399, body.GetProperty("expires_in").GetInt32());
        Assert.Equal("read_products,read_customers,read_orders,read_all_orders", body.GetProperty("scope").GetString());
        var token = body.GetProperty("access_token").GetString()!;
        Assert.Equal(200, await h.ApiStatusAsync(token));
        h.Clock.Now = OAuthHarness.Start.AddSeconds(86_399);
        Assert.Equal(401, await h.ApiStatusAsync(token));

        var elsewhere = await h.TokenAsync(Fields(foreign), form: true);
        Assert.Equal((400, "unauthorized_client"), (elsewhere.Status, OAuthHarness.Error(elsewhere)));
        var publicApp = await h.TokenAsync(Fields(h.App), form: true);
        Assert.Equal((400, "unauthorized_client"), (publicApp.Status, OAuthHarness.Error(publicApp)));
    }

    [Fact]
    public async Task token_endpoint_faults_fire_and_a_dropped_refresh_can_be_retried_with_the_same_token()
    {
        await using var h = await OAuthHarness.StartAsync("faults.myshopify.com");
        var (_, r1) = await h.InstallAsync();

        h.State.OAuth.Enqueue(OAuthFault.Http500, shopDomain: "other.myshopify.com");
        h.State.OAuth.Enqueue(OAuthFault.Http500);
        h.State.OAuth.Enqueue(OAuthFault.Http503);
        Assert.Equal(500, (await h.RefreshAsync(r1)).Status);
        Assert.Equal(503, (await h.RefreshAsync(r1)).Status);

        // The server rotates, but the client gets half a body and a cut connection.
        h.State.OAuth.Enqueue(OAuthFault.DropAfterIssue);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => h.RefreshAsync(r1));
        var dropped = h.State.OAuth.TokenRequests[^1];
        Assert.True(dropped.Succeeded);
        Assert.Equal(OAuthFault.DropAfterIssue, dropped.Fault);

        // The pair it never learnt is unused, so the same refresh token still works.
        h.State.OAuth.Enqueue(OAuthFault.Delay(TimeSpan.FromMilliseconds(200)));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var retry = await h.RefreshAsync(r1);
        Assert.True(watch.ElapsedMilliseconds >= 190);
        Assert.Equal(200, retry.Status);
        Assert.Equal(200, await h.ApiStatusAsync(retry.Body.GetProperty("access_token").GetString()!));
        Assert.Equal(0, h.State.OAuth.SpentRefreshTokenUses);
        Assert.Equal(["server_error", "temporarily_unavailable"],
            h.State.OAuth.TokenRequests.Where(r => r.Fault is { Kind: OAuthFaultKind.Http500 or OAuthFaultKind.Http503 }).Select(r => r.Error));
        Assert.Equal(2, h.State.OAuth.TokenRequests.Count(r => r.GrantType == "refresh_token" && r.Succeeded));
    }

    [Fact]
    public async Task uninstalling_revokes_the_installs_access_and_refresh_tokens()
    {
        await using var h = await OAuthHarness.StartAsync("uninstall-oauth.myshopify.com");
        var (access, refresh) = await h.InstallAsync();
        Assert.True(h.State.UninstallApp(h.Domain, h.App.ClientId));
        Assert.Equal(401, await h.ApiStatusAsync(access));
        Assert.Equal("invalid_grant", OAuthHarness.Error(await h.RefreshAsync(refresh)));

        // Installing again brings a new, working pair.
        var (again, _) = await h.InstallAsync();
        Assert.Equal(200, await h.ApiStatusAsync(again));
    }

    private static (string Access, string Refresh) Pair(JsonElement body) =>
        (body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!);
}
