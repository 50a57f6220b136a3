using System.Net;
using System.Security.Cryptography;
using System.Text;
using Alba;
using Microsoft.Extensions.DependencyInjection;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Tests.Infrastructure;
using Xeno.Web.Tests.Install;

namespace Xeno.Web.Tests.Stores;

/// <summary>The life of a store's credentials: expiring OAuth tokens refreshed once however many workers need them,
/// client-credentials tokens renewed, pasted tokens with and without their app's secret, and each app's webhooks
/// verified with that app's own secret.</summary>
[Collection(XenoCollection.Name)]
public sealed class CredentialTests(XenoFixture fixture)
{
    private readonly InstallFlow _flow = new(fixture);
    private IAlbaHost Host => fixture.Host;
    private ShopifyServerState Shopify => fixture.Shopify.State;

    [Fact]
    public async Task two_workers_at_an_expired_token_refresh_it_exactly_once()
    {
        var (storeId, shop) = await InstalledStoreAsync();
        var spentBefore = Shopify.OAuth.SpentRefreshTokenUses;
        for (var round = 1; round <= 2; round++)
        {
            await ExpireInXenoAsync(storeId);
            // Slow enough that the second worker arrives while the first holds the lock.
            Shopify.OAuth.Latency = TimeSpan.FromMilliseconds(300);
            var (first, second) = (Credentials(), Credentials());
            var tokens = await Task.WhenAll(first.GetAsync(storeId, default), second.GetAsync(storeId, default));
            Shopify.OAuth.Latency = TimeSpan.Zero;

            Assert.Equal(tokens[0].AccessToken, tokens[1].AccessToken);
            Assert.Equal(round, Refreshes(shop).Count(g => g.Succeeded));
            await Credentials().QueryAsync(storeId, ShopifyQueries.Shop, null, default); // the new token works
        }
        Assert.Equal(spentBefore, Shopify.OAuth.SpentRefreshTokenUses);
        Assert.All(Refreshes(shop), g => Assert.True(g.Succeeded));
    }

    [Fact]
    public async Task a_refresh_whose_answer_is_lost_is_repeated_safely_and_never_with_a_spent_token()
    {
        var (storeId, shop) = await InstalledStoreAsync();
        var spentBefore = Shopify.OAuth.SpentRefreshTokenUses;

        // Shopify rotates, and the answer never arrives: Xeno asks again with the same refresh token, which Shopify
        // still honours because its replacement was never used. Two workers, one refresh in the end.
        await ExpireInXenoAsync(storeId);
        Shopify.OAuth.Enqueue(OAuthFault.DropAfterIssue, shopDomain: shop.MyshopifyDomain);
        var tokens = await Task.WhenAll(Credentials().GetAsync(storeId, default), Credentials().GetAsync(storeId, default));
        Assert.Equal(tokens[0].AccessToken, tokens[1].AccessToken);
        await Credentials().QueryAsync(storeId, ShopifyQueries.Shop, null, default);

        // Every try lost: nothing is stored, and the pair Xeno kept still works the next time.
        await ExpireInXenoAsync(storeId);
        for (var i = 0; i < 3; i++) Shopify.OAuth.Enqueue(OAuthFault.DropAfterIssue, shopDomain: shop.MyshopifyDomain);
        await Assert.ThrowsAsync<ShopifyApiException>(() => Credentials().GetAsync(storeId, default));
        Assert.Equal("active", await StatusAsync(storeId));
        var renewed = await Credentials().GetAsync(storeId, default);
        await Credentials().QueryAsync(storeId, ShopifyQueries.Shop, null, default);
        Assert.NotEqual(tokens[0].AccessToken, renewed.AccessToken);

        Assert.Equal(spentBefore, Shopify.OAuth.SpentRefreshTokenUses);
        // And the rotation chain is intact: one more refresh works.
        await ExpireInXenoAsync(storeId);
        await Credentials().GetAsync(storeId, default);
        Assert.Equal(spentBefore, Shopify.OAuth.SpentRefreshTokenUses);
        Assert.True(Refreshes(shop).Last().Succeeded);
    }

    [Fact]
    public async Task a_401_renews_the_token_once_and_tries_once_more()
    {
        var (storeId, shop) = await InstalledStoreAsync();
        var token = (await Credentials().GetAsync(storeId, default)).AccessToken;
        Shopify.ExpireAccessToken(token); // Shopify has let it go; Xeno still thinks it has an hour left

        var data = await Credentials().QueryAsync(storeId, ShopifyQueries.Shop, null, default);
        Assert.Equal(shop.Name, (string?)data["shop"]?["name"]);
        Assert.Single(Refreshes(shop));
    }

    [Fact]
    public async Task a_401_after_the_renewal_is_the_callers_and_never_a_loop()
    {
        var (storeId, shop) = await InstalledStoreAsync();
        // Shopify turns away the token and then the renewed one too (a scope revoked, say).
        shop.Faults.Enqueue(ShopifyFault.Http401, times: 2);
        await Assert.ThrowsAsync<ShopifyAuthException>(() => Credentials().QueryAsync(storeId, ShopifyQueries.Shop, null, default));
        Assert.Single(Refreshes(shop));
        // Two requests, one renewal between them, and the store is untouched: the next call works as it is.
        var data = await Credentials().QueryAsync(storeId, ShopifyQueries.Shop, null, default);
        Assert.Equal(shop.Name, (string?)data["shop"]?["name"]);
        Assert.Single(Refreshes(shop));
        Assert.Equal("active", await StatusAsync(storeId));
    }

    [Fact]
    public async Task a_token_is_renewed_when_under_five_minutes_are_left_and_not_before()
    {
        var (storeId, shop) = await InstalledStoreAsync();
        var token = (await Credentials().GetAsync(storeId, default)).AccessToken;

        await ExecuteAsTenantAsync(storeId, "UPDATE store_credentials SET access_token_expires_at = now() + interval '6 minutes'");
        Assert.Equal(token, (await Credentials().GetAsync(storeId, default)).AccessToken);
        Assert.Empty(Refreshes(shop));

        await ExecuteAsTenantAsync(storeId, "UPDATE store_credentials SET access_token_expires_at = now() + interval '4 minutes'");
        Assert.NotEqual(token, (await Credentials().GetAsync(storeId, default)).AccessToken);
        Assert.Single(Refreshes(shop));
    }

    [Fact]
    public async Task a_refresh_refused_for_good_marks_the_store_uninstalled_and_does_not_loop()
    {
        var (storeId, shop) = await InstalledStoreAsync();
        var lostPair = await fixture.ScalarAsync(storeId, "SELECT encrypted_refresh_token FROM store_credentials");
        await ExpireInXenoAsync(storeId);
        await Credentials().QueryAsync(storeId, ShopifyQueries.Shop, null, default); // refreshed, and the new token used

        // As if Xeno had lost the new pair: the refresh token it holds is spent, and Shopify refuses it for good.
        await ExecuteAsTenantAsync(storeId, $"UPDATE store_credentials SET encrypted_refresh_token = '{lostPair}', access_token_expires_at = now() - interval '1 minute'");
        var refused = await Assert.ThrowsAsync<ShopifyAuthException>(() => Credentials().QueryAsync(storeId, ShopifyQueries.Shop, null, default));
        Assert.Contains("Reinstall", refused.Message);
        Assert.Equal([true, false], Refreshes(shop).Select(g => g.Succeeded));
        Assert.Equal("uninstalled", await StatusAsync(storeId));
        Assert.Null(await fixture.ScalarAsync(storeId, "SELECT encrypted_refresh_token FROM store_credentials"));

        // Nothing left to try with: another call does not go back to Shopify.
        await Assert.ThrowsAsync<ShopifyAuthException>(() => Credentials().QueryAsync(storeId, ShopifyQueries.Shop, null, default));
        Assert.Equal(2, Refreshes(shop).Count);
    }

    [Fact]
    public async Task an_app_of_the_shops_organization_connects_with_client_credentials_and_its_token_is_renewed()
    {
        var (_, apiToken) = await fixture.RegisterAsync();
        var (domain, _) = fixture.NewShop("Org Shop");
        var app = OrganizationApp(domain);

        var result = await Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = domain, clientId = app.ClientId, clientSecret = app.ClientSecret }).ToUrl("/api/v1/stores");
            s.WithBearerToken(apiToken);
            s.StatusCodeShouldBe(201);
        });
        var store = (await result.ReadAsJsonAsync<StoreResponse>())!;
        Assert.Equal("client_credentials", await fixture.ScalarAsync(store.Id, "SELECT method FROM store_credentials"));
        var expires = (DateTime)(await fixture.ScalarAsync(store.Id, "SELECT access_token_expires_at FROM store_credentials"))!;
        Assert.InRange(expires - DateTime.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(24.1));
        // The client secret and the tokens it got are stored encrypted: neither appears in the row.
        Assert.Equal(0L, await fixture.ScalarAsync(store.Id, $"""
            SELECT count(*) FROM store_credentials WHERE encrypted_app_secret IS NULL OR encrypted_access_token IS NULL
              OR position('{app.ClientSecret}' IN encrypted_app_secret) > 0 OR encrypted_access_token LIKE 'shpat%'
            """));
        // Subscribed by the organization's app, whose secret signs their deliveries.
        var shop = Shopify.GetShop(domain);
        Assert.Equal(17, shop.WebhookSubscriptions.Count(w => w.AppClientId == app.ClientId));
        Assert.Equal(HttpStatusCode.OK, await PostWebhookAsync(domain, app.ClientSecret));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostWebhookAsync(domain, XenoFixture.WebhookSecret));
        await fixture.WaitForSyncAsync(apiToken, store.Id);

        // Close to its end, the token is asked for again before use.
        await ExecuteAsTenantAsync(store.Id, "UPDATE store_credentials SET access_token_expires_at = now() + interval '2 minutes'");
        var before = Grants(domain, "client_credentials").Count;
        await Credentials().QueryAsync(store.Id, ShopifyQueries.Shop, null, default);
        Assert.Equal(before + 1, Grants(domain, "client_credentials").Count);
        expires = (DateTime)(await fixture.ScalarAsync(store.Id, "SELECT access_token_expires_at FROM store_credentials"))!;
        Assert.True(expires - DateTime.UtcNow > TimeSpan.FromHours(23));
    }

    [Fact]
    public async Task client_credentials_of_another_organization_or_a_public_app_are_refused()
    {
        var (_, apiToken) = await fixture.RegisterAsync();
        var (domain, _) = fixture.NewShop();
        var (otherDomain, _) = fixture.NewShop();
        var otherOrganizations = OrganizationApp(otherDomain);
        var own = OrganizationApp(domain);

        foreach (var (clientId, clientSecret) in new[]
        {
            (otherOrganizations.ClientId, otherOrganizations.ClientSecret),
            (Shopify.DefaultApp.ClientId, XenoFixture.WebhookSecret),
            (own.ClientId, "wrong secret"),
        })
        {
            var refused = await Host.Scenario(s =>
            {
                s.Post.Json(new { shopDomain = domain, clientId, clientSecret }).ToUrl("/api/v1/stores");
                s.WithBearerToken(apiToken);
                s.StatusCodeShouldBe(422);
            });
            Assert.Contains("client credentials", await refused.ReadAsTextAsync());
        }
        var unknown = await Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = "no-such-shop-9.myshopify.com", clientId = own.ClientId, clientSecret = own.ClientSecret }).ToUrl("/api/v1/stores");
            s.WithBearerToken(apiToken);
            s.StatusCodeShouldBe(422);
        });
        Assert.Contains("Shopify does not know this shop", await unknown.ReadAsTextAsync());
    }

    [Fact]
    public async Task a_custom_apps_token_with_its_secret_gets_that_apps_webhooks_verified_with_that_secret()
    {
        var (_, apiToken) = await fixture.RegisterAsync();
        var domain = $"custom-{Guid.NewGuid():N}"[..18] + ".myshopify.com";
        var shop = ShopGenerator.Generate(71, 20, new ShopGeneratorOptions { Domain = domain, Name = "Custom Shop" });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        Shopify.AddShop(shop);
        var app = new ShopifyApp { ClientId = "custom-" + Guid.NewGuid().ToString("N"), ClientSecret = "custom-secret-" + Guid.NewGuid().ToString("N"), Kind = ShopifyAppKind.AdminCustom };
        Shopify.AddApp(app);
        var token = "shpat_" + Guid.NewGuid().ToString("N");
        Shopify.AddToken(domain, token, app);

        var store = await fixture.ConnectStoreAsync(apiToken, domain, token, apiSecret: app.ClientSecret);
        Assert.Equal(17, shop.WebhookSubscriptions.Count(w => w.AppClientId == app.ClientId));
        Assert.Equal(0L, await fixture.ScalarAsync(store.Id, $"""
            SELECT count(*) FROM store_credentials WHERE encrypted_app_secret IS NULL
              OR position('{app.ClientSecret}' IN encrypted_app_secret) > 0 OR position('{token}' IN encrypted_access_token) > 0
            """));
        await fixture.WaitForSyncAsync(apiToken, store.Id);

        // The shop's own webhooks, signed by Shopify with the custom app's secret, arrive and are applied.
        var placed = shop.PlaceOrder(new NewOrder());
        await Shopify.FlushWebhooksAsync();
        Assert.Contains(Shopify.WebhookDeliveries, d => d.ShopDomain == domain && d.Topic == "orders/create" && d.StatusCode == 200);
        await WaitAsync(async () => Convert.ToInt64(await fixture.ScalarAsync(store.Id, $"SELECT count(*) FROM orders WHERE id = {placed.Id}")) == 1);
        // A delivery signed with Xeno's own app secret is another app's: refused.
        Assert.Equal(HttpStatusCode.Unauthorized, await PostWebhookAsync(domain, XenoFixture.WebhookSecret));
    }

    [Fact]
    public async Task a_custom_apps_token_without_its_secret_subscribes_nothing_and_the_settings_page_says_so()
    {
        var (_, apiToken) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop("Token Only");
        var store = await fixture.ConnectStoreAsync(apiToken, domain, shopToken);

        Assert.Empty(Shopify.GetShop(domain).WebhookSubscriptions);
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(apiToken);
        var (_, html) = await browser.GetAsync($"/stores/{store.Id}/settings");
        Assert.Contains("connected with an access token alone", html);
        Assert.Contains("scheduled sync", html);
        // Deliveries are verified with Xeno's app secret, as for any store without a secret of its own.
        Assert.Equal(HttpStatusCode.OK, await PostWebhookAsync(domain, XenoFixture.WebhookSecret));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostWebhookAsync(domain, "some other secret"));
    }

    [Fact]
    public async Task an_unknown_shop_says_shopify_does_not_know_it()
    {
        var (_, apiToken) = await fixture.RegisterAsync();
        var result = await Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = "never-made-shop.myshopify.com", accessToken = "shpat_x" }).ToUrl("/api/v1/stores");
            s.WithBearerToken(apiToken);
            s.StatusCodeShouldBe(422);
        });
        Assert.Contains("Shopify does not know this shop", await result.ReadAsTextAsync());
    }

    private async Task<(Guid StoreId, Shop Shop)> InstalledStoreAsync()
    {
        var (browser, _) = await _flow.MerchantAsync();
        var domain = $"cred-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(73, 10, new ShopGeneratorOptions { Domain = domain, Name = "Credential Shop" });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        Shopify.AddShop(shop);
        var storeId = await _flow.InstallAsync(browser, domain);
        await fixture.WaitForSyncAsync(browser.Cookies["xeno_auth"], storeId);
        return (storeId, shop);
    }

    private ShopifyApp OrganizationApp(string domain)
    {
        var app = new ShopifyApp
        {
            ClientId = "org-" + Guid.NewGuid().ToString("N"), ClientSecret = "org-secret-" + Guid.NewGuid().ToString("N"),
            Kind = ShopifyAppKind.DevDashboard, OrganizationId = Shopify.GetShop(domain).OrganizationId,
        };
        Shopify.AddApp(app);
        return app;
    }

    /// <summary>A credentials service of its own scope, as each worker process has.</summary>
    private ShopifyCredentials Credentials() => Host.Services.CreateScope().ServiceProvider.GetRequiredService<ShopifyCredentials>();

    private List<OAuthTokenRequest> Grants(string domain, string grantType) =>
        Shopify.OAuth.TokenRequests.Where(g => g.ShopDomain == domain && g.GrantType == grantType).ToList();

    private List<OAuthTokenRequest> Refreshes(Shop shop) => Grants(shop.MyshopifyDomain, "refresh_token");

    /// <summary>Xeno believes the token has expired (Shopify would still take it): the next use refreshes first.</summary>
    private Task ExpireInXenoAsync(Guid storeId) =>
        ExecuteAsTenantAsync(storeId, "UPDATE store_credentials SET access_token_expires_at = now() - interval '1 minute'");

    private async Task ExecuteAsTenantAsync(Guid storeId, string sql)
    {
        await using var conn = new Npgsql.NpgsqlConnection(fixture.OwnerConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"SELECT set_config('app.tenant_id', '{storeId}', false); {sql}", conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task<string> StatusAsync(Guid storeId) =>
        ((string)(await fixture.ScalarAsync(storeId, $"SELECT status FROM stores WHERE id = '{storeId}'"))!).ToLowerInvariant();

    private async Task<HttpStatusCode> PostWebhookAsync(string domain, string secret)
    {
        var body = Encoding.UTF8.GetBytes("""{"id":1,"name":"ping"}""");
        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Shopify-Topic", "shop/update");
        request.Headers.Add("X-Shopify-Shop-Domain", domain);
        request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Event-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));
        return (await client.SendAsync(request)).StatusCode;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("The condition did not hold in time.");
    }
}
