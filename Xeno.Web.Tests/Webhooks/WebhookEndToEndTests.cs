using Alba;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Webhooks;

/// <summary>The Shopify server changes a shop and sends the signed webhooks Shopify would; Xeno's stored
/// data must follow without a sync.</summary>
[Collection(XenoCollection.Name)]
public sealed class WebhookEndToEndTests(XenoFixture fixture)
{
    [Fact]
    public async Task changes_on_the_shop_arrive_as_signed_webhooks_and_leave_xeno_matching_the_shop()
    {
        var domain = $"live-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(31, 120, new ShopGeneratorOptions { Domain = domain, Name = "Live Shop" });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        fixture.Shopify.State.AddShop(shop, "shpat_live");
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, domain, "shpat_live", apiSecret: XenoFixture.WebhookSecret);

        // Connecting subscribed the store to every topic Xeno handles, at Xeno's public address.
        Assert.Equal(17, shop.WebhookSubscriptions.Count);
        Assert.All(shop.WebhookSubscriptions, s => Assert.Equal("http://xeno.test/webhooks/shopify", s.Uri));
        await fixture.WaitForSyncAsync(token, store.Id);

        // As Shopify may: some deliveries twice, and neighbours swapped.
        fixture.Shopify.State.Webhooks.Reseed(7);
        fixture.Shopify.State.Webhooks.DuplicateProbability = 0.3;
        fixture.Shopify.State.Webhooks.OutOfOrder = true;
        var customer = shop.Orders.First(o => o.Customer is not null).Customer!;
        var placed = shop.PlaceOrder(new NewOrder { Customer = customer });
        shop.PlaceOrder(new NewOrder());
        shop.AddRefund(placed.Id, quantity: 1, refundShipping: true);
        shop.CancelOrder(shop.Orders.First(o => o.CancelledAt == null && !o.Test && o.Refunds.Count == 0).Id);
        shop.DeleteOrder(shop.Orders.First(o => o.Id != placed.Id).Id);
        shop.UpdateCustomer(customer.Id, c => c.FirstName = "Renamed");
        var checkout = shop.AddAbandonedCheckout(customer.Id);
        shop.CompleteAbandonedCheckout(shop.AbandonedCheckouts.First(c => c.CompletedAt == null && c.Id != checkout.Id).Id);

        await fixture.Shopify.State.FlushWebhooksAsync();
        fixture.Shopify.State.Webhooks.DuplicateProbability = 0;
        fixture.Shopify.State.Webhooks.OutOfOrder = false;
        Assert.Contains(fixture.Shopify.State.WebhookDeliveries, d => d.ShopDomain == domain && d.Duplicate);
        Assert.All(fixture.Shopify.State.WebhookDeliveries.Where(d => d.ShopDomain == domain), d => Assert.Equal(200, d.StatusCode));
        for (var i = 0; i < 400 && Convert.ToInt64(await fixture.ScalarAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")) > 0; i++)
            await Task.Delay(50);

        Assert.Equal(0L, Convert.ToInt64(await fixture.ScalarAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status <> 'processed'")));
        Assert.Equal(ShopAssertions.Expected(shop), await ShopAssertions.StoredAsync(fixture, store.Id));
        Assert.Equal("Renamed", await fixture.ScalarAsync(store.Id, $"SELECT first_name FROM customers WHERE id = {customer.Id}"));

        // The settings page lists the subscriptions Shopify holds for the store.
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(token);
        var (_, settings) = await browser.GetAsync($"/stores/{store.Id}/settings");
        Assert.Contains("ORDERS_CREATE", settings);
        Assert.Contains("REFUNDS_CREATE", settings);
    }

}
