using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer.Tests;

/// <summary>Several apps on one shop: whose subscriptions each sees, whose secret signs what, and what an uninstall does.</summary>
public class AppTests
{
    private const string DefaultToken = "shpat_default";
    private const string XenoToken = "shpat_xeno";

    /// <summary>A shop with a token of the default app and one of a second app, "xeno", which the test may use or not.</summary>
    private sealed class Harness : IAsyncDisposable
    {
        public required ShopifyServerState State { get; init; }
        public required ShopifyTestServer Server { get; init; }
        public required Shop Shop { get; init; }
        public required ShopifyApp App { get; init; }
        public required WebhookReceiver Receiver { get; init; }
        public required ShopifyApi DefaultApi { get; init; }

        public string Domain => Shop.MyshopifyDomain;

        public async Task<int> ApiStatusAsync(string token)
        {
            using var api = new ShopifyApi(Server, Domain, token);
            return (await api.PostAsync("{ shop { name } }")).Status;
        }

        public async Task<JsonElement> SubscribeAsync(ShopifyApi api, string topic, string path)
        {
            var data = await api.DataAsync("""
                mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
                  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
                    webhookSubscription { id } userErrors { field message } } }
                """, new { topic, sub = new { uri = Receiver.Url(path) } });
            var payload = data.GetProperty("webhookSubscriptionCreate");
            Assert.Equal(0, payload.GetProperty("userErrors").GetArrayLength());
            return payload.GetProperty("webhookSubscription");
        }

        public async Task<List<ReceivedWebhook>> NextAsync()
        {
            await State.FlushWebhooksAsync().WaitAsync(TimeSpan.FromSeconds(20));
            var all = new List<ReceivedWebhook>();
            while (Receiver.Received.TryDequeue(out var hook))
                all.Add(hook);
            return all;
        }

        public async ValueTask DisposeAsync()
        {
            DefaultApi.Dispose();
            await Server.DisposeAsync();
            await Receiver.DisposeAsync();
            State.Webhooks.Dispose();
        }
    }

    private static async Task<Harness> StartAsync(string domain)
    {
        var state = new ShopifyServerState();
        var shop = state.AddShop(ShopGenerator.Generate(31, 30, new ShopGeneratorOptions { Domain = domain }), DefaultToken);
        var app = new ShopifyApp { ClientId = "xeno", ClientSecret = "shpss_xeno" };
        state.AddApp(app);
        state.AddToken(domain, XenoToken, app);
        var server = await ShopifyTestServer.StartAsync(state);
        return new Harness
        {
            State = state,
            Server = server,
            Shop = shop,
            App = app,
            Receiver = await WebhookReceiver.StartAsync(),
            DefaultApi = new ShopifyApi(server, domain, DefaultToken),
        };
    }

    private static bool Verifies(ReceivedWebhook hook, string secret) =>
        CryptographicOperations.FixedTimeEquals(
            Convert.FromBase64String(hook.Headers["X-Shopify-Hmac-Sha256"]),
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), hook.Body));

    private static List<string> Ids(JsonElement data) =>
        data.GetProperty("webhookSubscriptions").GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()!).ToList();

    [Fact]
    public async Task each_app_sees_only_its_own_subscriptions_and_its_webhooks_are_signed_with_its_secret()
    {
        await using var h = await StartAsync("apps.myshopify.com");
        using var xeno = new ShopifyApi(h.Server, h.Domain, XenoToken);
        var mine = (await h.SubscribeAsync(h.DefaultApi, "ORDERS_CREATE", "/default")).GetProperty("id").GetString()!;
        // The same topic and address is no conflict across apps: each app has its own subscriptions.
        await h.SubscribeAsync(xeno, "ORDERS_CREATE", "/default");
        var theirs = (await h.SubscribeAsync(xeno, "ORDERS_CREATE", "/xeno")).GetProperty("id").GetString()!;

        const string list = "{ webhookSubscriptions(first: 10) { nodes { id } } webhookSubscriptionsCount { count } }";
        var defaultView = await h.DefaultApi.DataAsync(list);
        Assert.Equal([mine], Ids(defaultView));
        Assert.Equal(1, defaultView.GetProperty("webhookSubscriptionsCount").GetProperty("count").GetInt32());
        var xenoView = await xeno.DataAsync(list);
        Assert.Equal(2, Ids(xenoView).Count);
        Assert.DoesNotContain(mine, Ids(xenoView));
        Assert.Equal(2, xenoView.GetProperty("webhookSubscriptionsCount").GetProperty("count").GetInt32());
        Assert.Equal(JsonValueKind.Null, (await xeno.DataAsync("query($id: ID!) { node(id: $id) { id } }", new { id = mine })).GetProperty("node").ValueKind);

        // Another app's subscription cannot be changed or deleted.
        var delete = (await xeno.DataAsync("mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } } }", new { id = mine }))
            .GetProperty("webhookSubscriptionDelete");
        Assert.Equal(JsonValueKind.Null, delete.GetProperty("deletedWebhookSubscriptionId").ValueKind);
        var update = (await xeno.DataAsync("mutation($id: ID!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: { uri: \"https://evil.example\" }) { userErrors { message } } }", new { id = mine }))
            .GetProperty("webhookSubscriptionUpdate");
        Assert.Equal(1, update.GetProperty("userErrors").GetArrayLength());
        Assert.Equal(3, h.Shop.WebhookSubscriptions.Count);
        Assert.Equal(2, h.Shop.WebhookSubscriptions.Count(w => w.AppClientId == h.App.ClientId));

        h.State.AppSecret = "default-secret";
        h.Shop.PlaceOrder(new NewOrder());
        var hooks = await h.NextAsync();
        Assert.Equal(3, hooks.Count);
        Assert.Single(hooks.Select(x => x.EventId).Distinct());
        var byApp = h.State.WebhookDeliveries.ToDictionary(d => d.WebhookId, d => d.AppClientId);
        foreach (var hook in hooks)
        {
            var secret = byApp[hook.WebhookId] == h.State.DefaultApp.ClientId ? "default-secret" : h.App.ClientSecret;
            Assert.True(Verifies(hook, secret));
            Assert.False(Verifies(hook, secret == "default-secret" ? h.App.ClientSecret : "default-secret"));
        }
        Assert.Equal(1, h.State.WebhookDeliveries.Count(d => d.AppClientId == h.State.DefaultApp.ClientId));
        Assert.Equal(["/default", "/xeno"], h.State.WebhookDeliveries.Where(d => d.AppClientId == h.App.ClientId).Select(d => new Uri(d.Uri).AbsolutePath).Order());

        // A rotation of one app's secret, and a delivery signed with its previous one, touch only that app.
        h.App.RotateSecret("shpss_next");
        h.State.Webhooks.SignWithPreviousSecret(h.App, attempts: 2);
        h.State.Webhooks.ClearDeliveries();
        h.Shop.PlaceOrder(new NewOrder());
        var rotated = await h.NextAsync();
        var signed = h.State.WebhookDeliveries.ToDictionary(d => d.WebhookId);
        Assert.All(rotated, hook =>
        {
            var delivery = signed[hook.WebhookId];
            var expected = delivery.AppClientId == h.State.DefaultApp.ClientId ? "default-secret" : "shpss_xeno";
            Assert.Equal(delivery.AppClientId != h.State.DefaultApp.ClientId, delivery.SignedWithPreviousSecret);
            Assert.True(Verifies(hook, expected));
        });
    }

    [Fact]
    public async Task privacy_topics_reach_every_app_on_the_shop_each_signed_with_its_own_secret()
    {
        await using var h = await StartAsync("privacy-apps.myshopify.com");
        await h.SubscribeAsync(h.DefaultApi, "ORDERS_CREATE", "/default");
        // Installed, without any subscription: its TOML address still hears of privacy requests.
        h.App.AppWebhookUri = h.Receiver.Url("/xeno-compliance");

        h.State.EmitCustomersRedact(h.Domain, h.Shop.Customers[0].Id);
        var hooks = await h.NextAsync();
        Assert.Equal(["/default", "/xeno-compliance"], hooks.Select(x => x.Path).Order());
        Assert.All(hooks, x => Assert.Equal("customers/redact", x.Topic));
        Assert.Single(hooks.Select(x => x.EventId).Distinct());
        Assert.True(Verifies(hooks.Single(x => x.Path == "/default"), h.State.AppSecret));
        Assert.True(Verifies(hooks.Single(x => x.Path == "/xeno-compliance"), h.App.ClientSecret));
    }

    [Fact]
    public async Task uninstall_sends_app_uninstalled_then_revokes_the_apps_tokens_and_subscriptions()
    {
        await using var h = await StartAsync("uninstall.myshopify.com");
        using var xeno = new ShopifyApi(h.Server, h.Domain, XenoToken);
        await h.SubscribeAsync(xeno, "APP_UNINSTALLED", "/xeno-uninstalled");
        await h.SubscribeAsync(xeno, "ORDERS_CREATE", "/xeno-orders");
        await h.SubscribeAsync(h.DefaultApi, "APP_UNINSTALLED", "/default-uninstalled");

        Assert.True(h.State.UninstallApp(h.Domain, h.App.ClientId));
        var hook = Assert.Single(await h.NextAsync());
        Assert.Equal(("/xeno-uninstalled", "app/uninstalled"), (hook.Path, hook.Topic));
        Assert.True(Verifies(hook, h.App.ClientSecret));
        Assert.Equal(h.Shop.Id, JsonDocument.Parse(hook.Body).RootElement.GetProperty("id").GetInt64());
        Assert.Equal(h.App.ClientId, Assert.Single(h.State.WebhookDeliveries).AppClientId);

        Assert.Equal(401, await h.ApiStatusAsync(XenoToken));
        Assert.False(h.State.IsValidToken(h.Domain, XenoToken));
        Assert.Equal(["/default-uninstalled"], h.Shop.WebhookSubscriptions.Select(w => new Uri(w.Uri).AbsolutePath));
        Assert.Equal(200, await h.ApiStatusAsync(DefaultToken));
        Assert.False(h.State.UninstallApp(h.Domain, h.App.ClientId));
        Assert.False(h.State.UninstallApp(h.Domain, "no-such-app"));

        // A new token (a reinstall) works again.
        h.State.AddToken(h.Domain, "shpat_xeno_again", h.App);
        Assert.Equal(200, await h.ApiStatusAsync("shpat_xeno_again"));
    }
}
