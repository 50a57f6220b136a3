using Xunit.Abstractions;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;

namespace Xeno.Web.Tests.Faults;

/// <summary>Shopify misbehaving in every way the test server can (5xx, 429 with Retry-After, THROTTLED, dropped
/// connections, slow answers, failed bulk operations, bulk downloads cut off) during a full and an incremental sync.</summary>
[Collection(FaultsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class ShopifyFaultTests(FaultsFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(3);

    private static void Misbehave(Shop shop, int seed)
    {
        shop.Faults.Reset(seed);
        shop.Faults.Http500Probability = 0.04;
        shop.Faults.Http502Probability = 0.03;
        shop.Faults.Http503Probability = 0.03;
        shop.Faults.Http429Probability = 0.03;
        shop.Faults.ThrottledProbability = 0.04;
        shop.Faults.DropConnectionProbability = 0.03;
        shop.Faults.RetryAfterSeconds = 1;
        shop.Faults.Latency = TimeSpan.FromMilliseconds(20);
    }

    /// <summary>The run did meet the faults (the draws are random, so which kinds depends on the requests made).</summary>
    private void AssertFaultsInjected(Shop shop)
    {
        var injected = shop.Faults.Injected;
        output.WriteLine($"faults injected: {injected.Values.Sum()} ({string.Join(", ", injected.Select(f => $"{f.Key} {f.Value}"))})");
        Assert.True(injected.Values.Sum() >= 3, $"only {injected.Values.Sum()} requests failed: the run hardly met a fault");
    }

    [Fact]
    public async Task a_full_sync_under_shopify_faults_ends_with_exactly_the_shops_data()
    {
        var (shop, shopToken) = fixture.GeneratedShop(seed: 65, orders: 1500);
        Misbehave(shop, seed: 65);
        // The first two bulk operations (products, customers) fail with part of their data written: those kinds are paged.
        shop.Bulk.FailNext("INTERNAL_SERVER_ERROR", partialFraction: 0.4);
        shop.Bulk.FailNext("TIMEOUT", partialFraction: 0.2);
        // The downloads of the others break off midway, twice.
        shop.Bulk.CutDownloads(times: 2);
        await using var worker = await fixture.StartWorkerAsync();
        var (token, store) = await fixture.ConnectAsync(shop, shopToken);

        var status = await fixture.WaitForSyncAsync(token, store.Id, Long, () => worker.Output);
        Assert.True(status.LastRun!.Status == "succeeded", status.LastRun.Error);
        Assert.Equal("full", status.LastRun.Mode);
        Assert.True(shop.Requests["products"] > 0 && shop.Requests["customers"] > 0, "the kinds whose bulk operation failed were paged");
        Assert.Equal(2, await fixture.CountAsync(store.Id, "SELECT count(*) FROM sync_bulk_files WHERE status = 'failed'"));
        Assert.Equal(2, shop.Bulk.DownloadsCut);
        AssertFaultsInjected(shop);
        shop.Faults.Reset();
        await fixture.AssertExactAsync(shop, token, store.Id);
    }

    [Fact]
    public async Task an_incremental_sync_under_shopify_faults_ends_with_exactly_the_shops_data()
    {
        var (shop, shopToken) = fixture.GeneratedShop(seed: 66, orders: 400);
        await using var worker = await fixture.StartWorkerAsync();
        var (token, store) = await fixture.ConnectAsync(shop, shopToken);
        var first = await fixture.WaitForSyncAsync(token, store.Id, Long, () => worker.Output);
        Assert.True(first.LastRun!.Status == "succeeded", first.LastRun.Error);

        // What changed since: new orders (several pages of them), refunds, cancellations, a renamed customer, a checkout.
        var customers = shop.Customers.Where(c => c.Id > 0).Take(30).ToList();
        for (var i = 0; i < 300; i++) shop.PlaceOrder(new NewOrder { Customer = i % 4 == 0 ? null : customers[i % customers.Count] });
        foreach (var order in shop.Orders.Where(o => o.CancelledAt == null && o.Refunds.Count == 0 && !o.Test).Take(40).ToList())
            shop.AddRefund(order.Id, quantity: 1, refundShipping: true);
        foreach (var order in shop.Orders.Where(o => o.CancelledAt == null && !o.Test).Skip(50).Take(10).ToList()) shop.CancelOrder(order.Id);
        shop.UpdateCustomer(customers[0].Id, c => c.FirstName = "Renamed");
        shop.AddAbandonedCheckout(customers[1].Id);

        Misbehave(shop, seed: 66);
        var runId = await fixture.QueueSyncAsync(token, store.Id, "incremental");
        var status = await fixture.WaitForSyncAsync(token, store.Id, Long, () => worker.Output);
        Assert.Equal(runId, status.LastRun!.RunId);
        Assert.True(status.LastRun.Status == "succeeded", status.LastRun.Error);
        Assert.Equal("incremental", status.LastRun.Mode);
        AssertFaultsInjected(shop);
        shop.Faults.Reset();
        await fixture.AssertExactAsync(shop, token, store.Id);
        Assert.Equal("Renamed", await fixture.ScalarAsync(store.Id, $"SELECT first_name FROM customers WHERE id = {customers[0].Id}"));
    }
}
