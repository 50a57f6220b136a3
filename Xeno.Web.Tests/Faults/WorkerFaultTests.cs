using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Faults;

/// <summary>Worker processes killed (SIGKILL) or stopped (SIGTERM) in the middle of their work: whatever they had
/// begun is finished by another worker, and the store ends with exactly the shop's data.</summary>
[Collection(FaultsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class WorkerFaultTests(FaultsFixture fixture)
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(3);

    private Task<long> OrdersLoadedAsync(Guid storeId, Guid runId) => fixture.CountAsync(storeId,
        $"SELECT coalesce(max(lines_loaded), 0) FROM sync_bulk_files WHERE run_id = '{runId}' AND kind = 'orders'");

    /// <summary>Waits until the run's orders file is partly stored: some of its checkpoints committed, more to come.</summary>
    private async Task<long> WaitMidOrdersFileAsync(Guid storeId, Guid runId, XenoProcess worker) =>
        await Task.Run(async () =>
        {
            await FaultsFixture.WaitUntilAsync(async () => await OrdersLoadedAsync(storeId, runId) > 0, "part of the orders file stored", Long,
                () => worker.Output);
            return await OrdersLoadedAsync(storeId, runId);
        });

    [Fact]
    public async Task a_worker_killed_mid_sync_leaves_the_run_to_another_worker_which_ends_it_with_exactly_the_shops_data()
    {
        var (shop, shopToken) = fixture.GeneratedShop(seed: 61, orders: 3000);
        await using var first = await fixture.StartWorkerAsync();
        var (token, store) = await fixture.ConnectAsync(shop, shopToken);
        var runId = (await fixture.GetAsync<Features.Sync.GetSyncStatus.Response>(token, $"/api/v1/stores/{store.Id}/sync")).LastRun!.RunId;

        var storedAtKill = await WaitMidOrdersFileAsync(store.Id, runId, first);
        await first.KillAsync();
        var objects = await fixture.CountAsync(store.Id, $"SELECT object_count FROM sync_bulk_files WHERE run_id = '{runId}' AND kind = 'orders'");
        var loadedAfterKill = await OrdersLoadedAsync(store.Id, runId);
        Assert.True(loadedAfterKill < objects, $"the kill came after the whole orders file was stored ({loadedAfterKill} of {objects})");
        Assert.Equal("running", await fixture.ScalarAsync(store.Id, $"SELECT status FROM sync_runs WHERE id = '{runId}'"));
        var operations = shop.Bulk.Operations.Count;

        // The job comes back once the dead worker's hold on it lapses; another worker resumes the same run.
        await using var second = await fixture.StartWorkerAsync();
        var status = await fixture.WaitForSyncAsync(token, store.Id, Long, () => second.Output);
        Assert.Equal(runId, status.LastRun!.RunId);
        Assert.True(status.LastRun.Status == "succeeded", status.LastRun.Error);
        Assert.Equal(operations, shop.Bulk.Operations.Count); // the same bulk files, taken up where they were, not asked for again
        Assert.Equal(1, await fixture.CountAsync(store.Id, "SELECT count(*) FROM sync_runs"));
        Assert.InRange(storedAtKill, 1, objects - 1);
        await fixture.AssertExactAsync(shop, token, store.Id);
    }

    [Fact]
    public async Task a_worker_stopped_with_sigterm_mid_sync_requeues_its_job_at_once_and_the_run_completes()
    {
        var (shop, shopToken) = fixture.GeneratedShop(seed: 62, orders: 3000);
        var first = await fixture.StartWorkerAsync();
        var (token, store) = await fixture.ConnectAsync(shop, shopToken);
        var runId = (await fixture.GetAsync<Features.Sync.GetSyncStatus.Response>(token, $"/api/v1/stores/{store.Id}/sync")).LastRun!.RunId;

        await WaitMidOrdersFileAsync(store.Id, runId, first);
        var exit = await first.TerminateAsync(TimeSpan.FromSeconds(60));
        var output = first.Output;
        await first.DisposeAsync();
        Assert.True(exit == 0, $"the worker exited with {exit}:\n{output}");
        var run = await fixture.ScalarAsync(store.Id, $"SELECT status FROM sync_runs WHERE id = '{runId}'");
        if (run is "running")
        {
            // Stopped at a checkpoint: back in the queue at once. A worker that waits the full hold of a dead worker's job
            // before taking it (ten minutes) can only finish the run in time if the job was handed back.
            await using var second = await fixture.StartWorkerAsync(("Jobs__InvisibilityTimeout", "00:10:00"));
            var status = await fixture.WaitForSyncAsync(token, store.Id, Long, () => second.Output);
            Assert.Equal(runId, status.LastRun!.RunId);
            Assert.True(status.LastRun.Status == "succeeded", status.LastRun.Error);
        }
        else Assert.Equal("succeeded", run); // or it finished within the shutdown's time
        Assert.Equal(1, await fixture.CountAsync(store.Id, "SELECT count(*) FROM sync_runs"));
        await fixture.AssertExactAsync(shop, token, store.Id);
    }

    [Fact]
    public async Task a_worker_killed_mid_webhook_processing_loses_and_doubles_nothing()
    {
        var (shop, shopToken) = fixture.GeneratedShop(seed: 63, orders: 100);
        var (token, store) = await fixture.ConnectAsync(shop, shopToken, webhooks: true);
        await using (var syncer = await fixture.StartWorkerAsync())
        {
            var synced = await fixture.WaitForSyncAsync(token, store.Id, Long, () => syncer.Output);
            Assert.True(synced.LastRun!.Status == "succeeded", synced.LastRun.Error);
        }

        // With no worker up, the shop changes a lot and Shopify's webhooks (some twice, as Shopify may) are taken in.
        var webhooks = fixture.Shopify.State.Webhooks;
        webhooks.Reseed(63);
        webhooks.DuplicateProbability = 0.1;
        var placed = new List<Order>();
        try
        {
            var customers = shop.Customers.Where(c => c.Id > 0).Take(20).ToList();
            for (var i = 0; i < 120; i++)
                placed.Add(shop.PlaceOrder(new NewOrder { Customer = i % 3 == 0 ? null : customers[i % customers.Count] }));
            // orders/create and then orders/updated for the same order: the later version must win (a test order counts
            // in no metric, so the summary shows which version was kept).
            foreach (var order in placed.Where((_, i) => i % 4 == 0)) shop.UpdateOrder(order.Id, o => o.Test = true);
            foreach (var order in placed.Where((_, i) => i % 5 == 1)) shop.AddRefund(order.Id, quantity: 1, refundShipping: true);
            foreach (var order in placed.Where((_, i) => i % 7 == 2)) shop.CancelOrder(order.Id);
            await fixture.Shopify.State.FlushWebhooksAsync();
        }
        finally { webhooks.DuplicateProbability = 0; }
        var mine = fixture.Shopify.State.WebhookDeliveries.Where(d => d.ShopDomain == shop.MyshopifyDomain).ToList();
        Assert.All(mine, d => Assert.Equal(200, d.StatusCode));
        var pending = await fixture.CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'");
        Assert.True(pending >= 200, $"{pending} deliveries pending");

        // A worker applying them in small batches, killed once some batches are committed and others are not yet.
        var worker = await fixture.StartWorkerAsync(("Webhooks__BatchSize", "4"), ("Webhooks__LargeBatchSize", "4"), ("Webhooks__Workers", "1"));
        await FaultsFixture.WaitUntilAsync(async () => await fixture.CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'") > 0,
            "a first batch applied", Long, () => worker.Output);
        await worker.KillAsync();
        var processed = await fixture.CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'");
        var left = await fixture.CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'");
        await worker.DisposeAsync();
        Assert.True(processed > 0 && left > 0, $"killed with {processed} processed and {left} pending");
        Assert.Equal(pending, processed + left);

        // Another, stopped with SIGTERM (a deploy) while it applies them: it ends its batch and exits cleanly.
        var stopping = await fixture.StartWorkerAsync(("Webhooks__BatchSize", "4"), ("Webhooks__LargeBatchSize", "4"), ("Webhooks__Workers", "1"));
        await FaultsFixture.WaitUntilAsync(async () => await fixture.CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'") > processed,
            "more batches applied", Long, () => stopping.Output);
        var exit = await stopping.TerminateAsync(TimeSpan.FromSeconds(60));
        var stoppedOutput = stopping.Output;
        await stopping.DisposeAsync();
        Assert.True(exit == 0, $"the worker exited with {exit}:\n{stoppedOutput}");
        Assert.True(await fixture.CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") > 0, "the stop came before the end");

        await using var next = await fixture.StartWorkerAsync();
        await FaultsFixture.WaitUntilAsync(async () => await fixture.CountAsync(store.Id,
            "SELECT count(*) FROM webhook_deliveries WHERE status <> 'processed'") == 0, "every delivery applied", Long, () => next.Output);
        // Each applied once: a batch cut off by the kill rolled back whole, its tries uncounted; the stop's batch ended.
        Assert.Equal(pending, await fixture.CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE attempts = 1"));
        Assert.Equal(30, await fixture.CountAsync(store.Id, $"SELECT count(*) FROM orders WHERE test AND id >= {placed[0].Id}"));
        await fixture.AssertExactAsync(shop, token, store.Id);
    }
}
