using System.Globalization;
using System.Net;
using Alba;
using Npgsql;
using Xeno.ShopifyServer;
using Xeno.Web.Features.Demo;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Install;

/// <summary>Installing Xeno from Shopify: the App URL, the redirect to Shopify's authorize page, and a callback that
/// stores nothing unless every check holds.</summary>
[Collection(XenoCollection.Name)]
public sealed class InstallTests(XenoFixture fixture)
{
    private readonly InstallFlow _flow = new(fixture);

    [Fact]
    public void the_query_signature_matches_shopifys_documented_example()
    {
        var query = new Dictionary<string, string>
        {
            ["code"] = "0907a61c0c8d55e99db179b68161bc00", ["shop"] = "some-shop.myshopify.com", ["timestamp"] = "1337178173",
        };
        Assert.Equal("4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20", ShopifyQuerySignature.Sign(query, "hush"));
        Assert.True(ShopifyQuerySignature.IsValid(query.Append(new("hmac", "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20")), "hush"));
        Assert.False(ShopifyQuerySignature.IsValid(query.Append(new("hmac", "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d21")), "hush"));
        // Xeno and the Shopify-compatible server sign alike, escaping included.
        var escaped = new Dictionary<string, string> { ["host"] = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYQ==", ["state"] = "a&b=c d/é" };
        Assert.Equal(ShopifyOAuth.SignQuery(escaped, "hush"), ShopifyQuerySignature.Sign(escaped, "hush"));
    }

    [Fact]
    public async Task a_merchant_installs_xeno_on_a_shop_and_its_store_syncs()
    {
        var (browser, _) = await _flow.MerchantAsync();
        var (shop, _) = GeneratedShop(61, 40);

        var storeId = await _flow.InstallAsync(browser, shop.MyshopifyDomain);

        var (page, html) = await browser.GetAsync($"/stores/{storeId}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(shop.Name, html);
        var apiToken = browser.Cookies["xeno_auth"];
        var status = await fixture.WaitForSyncAsync(apiToken, storeId);
        Assert.Equal("succeeded", status.LastRun!.Status);
        Assert.Equal(shop.Orders.Count, status.Totals.Orders);

        // Expiring tokens from the install, encrypted; Xeno's app subscribed to every topic.
        Assert.Equal("oauth", await fixture.ScalarAsync(storeId, "SELECT method FROM store_credentials"));
        // Both tokens encrypted at rest: Shopify's shpat_/shprt_ tokens appear nowhere in the row.
        Assert.Equal(0L, await fixture.ScalarAsync(storeId, """
            SELECT count(*) FROM store_credentials WHERE encrypted_access_token IS NULL OR encrypted_refresh_token IS NULL
              OR encrypted_access_token LIKE '%shpat%' OR encrypted_refresh_token LIKE '%shprt%'
            """));
        var expires = (DateTime)(await fixture.ScalarAsync(storeId, "SELECT access_token_expires_at FROM store_credentials"))!;
        Assert.InRange(expires - DateTime.UtcNow, TimeSpan.FromMinutes(50), TimeSpan.FromMinutes(61));
        Assert.Equal(17, shop.WebhookSubscriptions.Count);
        var grants = fixture.Shopify.State.OAuth.TokenRequests.Where(g => g.ShopDomain == shop.MyshopifyDomain).ToList();
        Assert.Single(grants, g => g.GrantType == "authorization_code" && g.Succeeded);
    }

    [Fact]
    public async Task a_forged_or_missing_hmac_is_refused_and_stores_nothing()
    {
        var (browser, _) = await _flow.MerchantAsync();
        var (domain, _) = fixture.NewShop();
        var callback = await _flow.ApproveAsync(browser, domain);

        var forged = callback.Replace("hmac=", "hmac=0");
        var (response, html) = await browser.GetAsync(forged);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Shopify", html);
        var unsigned = InstallFlow.Resign(callback, _ => { }).Split("&hmac=")[0];
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(unsigned)).Response.StatusCode);
        // Signed with another app's secret.
        var otherApp = callback.Split("hmac=")[0] + "hmac=" + ShopifyOAuth.SignQuery(Params(callback), "another-apps-secret");
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(otherApp)).Response.StatusCode);
        await AssertNothingStoredAsync(domain);

        // The genuine callback still works afterwards: a forgery does not spend the state.
        var (done, _) = await browser.GetAsync(callback);
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
    }

    [Fact]
    public async Task a_callback_in_another_browser_is_refused_and_stores_nothing()
    {
        var (browser, email) = await _flow.MerchantAsync();
        var (domain, _) = fixture.NewShop();
        var callback = await _flow.ApproveAsync(browser, domain);

        var other = await _flow.SecondBrowserAsync(email);
        var (response, html) = await other.GetAsync(callback);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("another browser", html);
        await AssertNothingStoredAsync(domain);
    }

    [Fact]
    public async Task a_state_of_another_account_is_refused_and_stores_nothing()
    {
        var (alice, _) = await _flow.MerchantAsync();
        var (domain, _) = fixture.NewShop();
        var callback = await _flow.ApproveAsync(alice, domain);

        // Bob's browser holds Alice's install cookie too: only the account differs.
        var (bob, _) = await _flow.MerchantAsync();
        bob.SetCookie("xeno_install", alice.Cookies["xeno_install"]);
        var (response, html) = await bob.GetAsync(callback);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("another Xeno account", html);
        await AssertNothingStoredAsync(domain);
    }

    [Fact]
    public async Task a_replayed_callback_or_code_is_refused_and_changes_nothing()
    {
        var (browser, _) = await _flow.MerchantAsync();
        var (domain, _) = fixture.NewShop();
        var callback = await _flow.ApproveAsync(browser, domain);
        var storeId = (await browser.GetAsync(callback)).Response.Headers.Location!.OriginalString["/stores/".Length..];
        var credentialAt = await fixture.ScalarAsync(Guid.Parse(storeId), "SELECT updated_at FROM store_credentials");

        // The same callback again: its state is spent.
        var (replayed, html) = await browser.GetAsync(callback);
        Assert.Equal(HttpStatusCode.Forbidden, replayed.StatusCode);
        Assert.Contains("used already", html);

        // The spent code with a fresh state (which only Shopify could sign): Shopify refuses the code.
        var fresh = await _flow.ApproveAsync(browser, domain);
        var freshState = Params(fresh).Single(p => p.Key == "state").Value;
        var oldCode = InstallFlow.Resign(callback, q => { q["state"] = freshState; q["timestamp"] = InstallFlow.Now().ToString(CultureInfo.InvariantCulture); });
        var (codeReplayed, _) = await browser.GetAsync(oldCode);
        Assert.Equal(HttpStatusCode.BadRequest, codeReplayed.StatusCode);

        Assert.Equal(credentialAt, await fixture.ScalarAsync(Guid.Parse(storeId), "SELECT updated_at FROM store_credentials"));
        Assert.Equal(1L, await CountStoresAsync(domain));
    }

    [Fact]
    public async Task a_stale_timestamp_is_refused_and_stores_nothing()
    {
        var (browser, _) = await _flow.MerchantAsync();
        var (domain, _) = fixture.NewShop();
        var callback = await _flow.ApproveAsync(browser, domain);

        var stale = InstallFlow.Resign(callback, q => q["timestamp"] = (InstallFlow.Now() - 120).ToString(CultureInfo.InvariantCulture));
        var (response, html) = await browser.GetAsync(stale);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("too old", html);
        await AssertNothingStoredAsync(domain);
    }

    [Fact]
    public async Task a_shop_other_than_the_one_in_the_state_is_refused_and_stores_nothing()
    {
        var (browser, _) = await _flow.MerchantAsync();
        var (domain, _) = fixture.NewShop();
        var (otherDomain, _) = fixture.NewShop();
        var callback = await _flow.ApproveAsync(browser, domain);

        var swapped = InstallFlow.Resign(callback, q => q["shop"] = otherDomain);
        var (response, _) = await browser.GetAsync(swapped);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await AssertNothingStoredAsync(domain);
        await AssertNothingStoredAsync(otherDomain);
    }

    [Fact]
    public async Task an_expired_state_is_refused_and_stores_nothing()
    {
        var (browser, _) = await _flow.MerchantAsync();
        var (domain, _) = fixture.NewShop();
        var callback = await _flow.ApproveAsync(browser, domain);
        await ExecuteAsync($"UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE shop_domain = '{domain}'");

        var (response, html) = await browser.GetAsync(callback);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("ten minutes", html);
        await AssertNothingStoredAsync(domain);
    }

    [Fact]
    public async Task a_shop_another_account_connected_gets_a_409_page_and_no_exchange()
    {
        var (alice, _) = await _flow.MerchantAsync();
        var (domain, _) = fixture.NewShop();
        await _flow.InstallAsync(alice, domain);

        var (bob, _) = await _flow.MerchantAsync();
        var (response, html) = await bob.GetAsync(await _flow.ApproveAsync(bob, domain));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("Another Xeno account", html);
        Assert.Single(fixture.Shopify.State.OAuth.TokenRequests, g => g.ShopDomain == domain && g.GrantType == "authorization_code");
    }

    [Fact]
    public async Task the_app_url_checks_shopifys_signature_and_sends_a_visitor_through_login_and_back()
    {
        var (domain, _) = fixture.NewShop();
        var query = new Dictionary<string, string>
        {
            ["host"] = Convert.ToBase64String("admin.shopify.com/store/x"u8.ToArray()).TrimEnd('='), ["shop"] = domain,
            ["timestamp"] = InstallFlow.Now().ToString(CultureInfo.InvariantCulture),
        };
        query["hmac"] = ShopifyOAuth.SignQuery(query, XenoFixture.WebhookSecret);
        var appUrl = "/shopify" + InstallFlow.QueryString(query);

        var visitor = new BrowserSession(fixture.CreateClient());
        var (forged, _) = await visitor.GetAsync(appUrl.Replace("hmac=", "hmac=1"));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        // Not logged in: to the login page, which offers registering and keeps the way back.
        var (toLogin, _) = await visitor.GetAsync(appUrl);
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        var login = toLogin.Headers.Location!.OriginalString;
        Assert.StartsWith("/login?returnUrl=", login);
        var (_, loginHtml) = await visitor.GetAsync(login);
        Assert.Contains("/register?returnUrl=" + Uri.EscapeDataString(appUrl), System.Net.WebUtility.HtmlDecode(loginHtml));

        var (registered, _) = await visitor.PostFormAsync("/register", "/register", new Dictionary<string, string>
        {
            ["email"] = XenoFixture.UniqueEmail(), ["password"] = InstallFlow.Password, ["returnUrl"] = appUrl,
        });
        Assert.Equal(appUrl, registered.Headers.Location!.OriginalString);
        var (toShopify, _) = await visitor.GetAsync(appUrl);
        Assert.Equal(HttpStatusCode.Redirect, toShopify.StatusCode);
        Assert.StartsWith(fixture.Shopify.Origin + "/" + domain + "/admin/oauth/authorize?", toShopify.Headers.Location!.AbsoluteUri);
    }

    [Fact]
    public async Task a_malformed_shop_gets_a_400_page()
    {
        var (browser, _) = await _flow.MerchantAsync();
        foreach (var shop in new[] { "evil.example.com", "x.myshopify.com%0A", "", "a.myshopify.com.evil.com" })
        {
            var (response, _) = await browser.GetAsync("/stores/install?shop=" + shop);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    [Fact]
    public async Task an_uninstalled_store_comes_back_active_with_its_data_on_reinstall()
    {
        var (browser, _) = await _flow.MerchantAsync();
        var (shop, _) = GeneratedShop(62, 30);
        var storeId = await _flow.InstallAsync(browser, shop.MyshopifyDomain);
        var apiToken = browser.Cookies["xeno_auth"];
        await fixture.WaitForSyncAsync(apiToken, storeId);
        var orders = await fixture.ScalarAsync(storeId, "SELECT count(*) FROM orders");

        // The merchant uninstalls Xeno in Shopify: app/uninstalled arrives, signed with Xeno's secret.
        Assert.True(fixture.Shopify.State.UninstallApp(shop.MyshopifyDomain, fixture.Shopify.State.DefaultApp.ClientId));
        await fixture.Shopify.State.FlushWebhooksAsync();
        await WaitAsync(async () => await StatusAsync(apiToken, storeId) == "uninstalled");
        var (page, html) = await browser.GetAsync($"/stores/{storeId}");
        Assert.Contains("Reinstall Xeno", html);
        Assert.Null(await fixture.ScalarAsync(storeId, "SELECT encrypted_access_token FROM store_credentials"));
        // No sync for an uninstalled store: a queued one fails at once and says why.
        await Host.Scenario(s => { s.Post.Url($"/api/v1/stores/{storeId}/sync"); s.WithBearerToken(apiToken); s.StatusCodeShouldBe(202); });
        var failed = await fixture.WaitForSyncAsync(apiToken, storeId);
        Assert.Equal("failed", failed.LastRun!.Status);
        Assert.Contains("uninstalled", failed.LastRun.Error);

        Assert.Equal(storeId, await _flow.InstallAsync(browser, shop.MyshopifyDomain));
        Assert.Equal("active", await StatusAsync(apiToken, storeId));
        Assert.Equal(orders, await fixture.ScalarAsync(storeId, "SELECT count(*) FROM orders"));
        var again = await fixture.WaitForSyncAsync(apiToken, storeId);
        Assert.Equal("succeeded", again.LastRun!.Status);
    }

    private IAlbaHost Host => fixture.Host;

    private (ShopifyServer.Model.Shop Shop, string Token) GeneratedShop(int seed, int orders)
    {
        var domain = $"inst-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(seed, orders, new ShopGeneratorOptions { Domain = domain, Name = "Installed Goods " + seed });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        var token = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, token);
        return (shop, token);
    }

    private async Task<string> StatusAsync(string apiToken, Guid storeId)
    {
        var result = await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{storeId}"); s.WithBearerToken(apiToken); });
        return (await result.ReadAsJsonAsync<StoreResponse>())!.Status;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("The condition did not hold in time.");
    }

    [Fact]
    public async Task every_account_gets_a_demo_shop_of_its_own_and_each_installs_it()
    {
        // Demo mode hands each account the shop DemoShops makes for it, on the Shopify-compatible server Xeno talks to.
        var demo = new DemoShops(fixture.Shopify);
        var merchants = new[] { await _flow.MerchantAsync(), await _flow.MerchantAsync() };
        var shops = new List<string>();
        foreach (var (browser, email) in merchants)
        {
            await using var conn = new NpgsqlConnection(fixture.OwnerConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT id FROM users WHERE email = lower(@e)", conn);
            cmd.Parameters.AddWithValue("e", email);
            var shop = demo.For((Guid)(await cmd.ExecuteScalarAsync())!)!;
            shops.Add(shop.Domain);

            var storeId = await _flow.InstallAsync(browser, shop.Domain);
            var status = await fixture.WaitForSyncAsync(browser.Cookies["xeno_auth"], storeId);
            Assert.Equal("succeeded", status.LastRun!.Status);
        }
        Assert.Equal(2, shops.Distinct().Count());
        foreach (var domain in shops) Assert.Equal(1L, await CountStoresAsync(domain));
    }

    private static List<KeyValuePair<string, string>> Params(string pathAndQuery) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri("http://xeno.test" + pathAndQuery).Query)
            .Select(p => new KeyValuePair<string, string>(p.Key, p.Value.ToString())).ToList();

    private async Task AssertNothingStoredAsync(string domain)
    {
        Assert.Equal(0L, await CountStoresAsync(domain));
        Assert.DoesNotContain(fixture.Shopify.State.OAuth.TokenRequests, g => g.ShopDomain == domain && g.GrantType == "authorization_code");
    }

    private async Task<long> CountStoresAsync(string domain)
    {
        await using var conn = new NpgsqlConnection(fixture.OwnerConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM stores WHERE shop_domain = @d", conn);
        cmd.Parameters.AddWithValue("d", domain);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(fixture.OwnerConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
