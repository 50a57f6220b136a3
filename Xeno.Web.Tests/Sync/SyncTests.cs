using System.Globalization;
using Alba;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Features.Sync;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Sync;

[Collection(XenoCollection.Name)]
public sealed class SyncTests(XenoFixture fixture)
{
    private IAlbaHost Host => fixture.Host;

    private (Shop Shop, string Token) GeneratedShop(int seed, int orders)
    {
        var domain = $"gen-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(seed, orders, new ShopGeneratorOptions { Domain = domain, Name = $"Generated {seed}" });
        var token = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, token);
        // Generous unless a test is about the rate limit: Standard's 100 points/s would make every test slow.
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        return (shop, token);
    }


    [Fact]
    public async Task a_full_sync_of_a_2000_order_shop_stores_exactly_the_shops_records()
    {
        var (shop, shopToken) = GeneratedShop(seed: 11, orders: 2000);
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);

        var status = await fixture.WaitForSyncAsync(token, store.Id);
        Assert.True(status.State == "idle", status.LastRun?.Error);
        Assert.Equal("succeeded", status.LastRun!.Status);
        Assert.Equal("full", status.LastRun.Mode);
        Assert.Equal(2000, shop.Orders.Count);
        Assert.Equal(shop.Orders.Count, status.LastRun.Fetched.Orders);
        Assert.Equal(shop.Orders.Count, status.Totals.Orders);
        Assert.Equal(ShopAssertions.Expected(shop), await ShopAssertions.StoredAsync(fixture, store.Id));
    }

    [Fact]
    public async Task the_same_sync_under_20_percent_faults_and_a_tight_rate_limit_ends_with_the_same_data()
    {
        var (shop, shopToken) = GeneratedShop(seed: 11, orders: 2000);
        // The bucket holds about one orders page, so the client has to wait ahead of nearly every request.
        shop.RateLimit.Configure(maximumAvailable: 1000, restoreRate: 10_000);
        shop.Faults.Reset(seed: 20);
        shop.Faults.Http500Probability = 0.04;
        shop.Faults.Http502Probability = 0.03;
        shop.Faults.Http503Probability = 0.03;
        shop.Faults.Http429Probability = 0.03;
        shop.Faults.ThrottledProbability = 0.04;
        shop.Faults.DropConnectionProbability = 0.03;
        shop.Faults.RetryAfterSeconds = 1;
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);

        var status = await fixture.WaitForSyncAsync(token, store.Id, TimeSpan.FromMinutes(15));
        Assert.True(status.State == "idle", status.LastRun?.Error);
        Assert.Equal(2000, status.Totals.Orders);
        Assert.Equal(ShopAssertions.Expected(shop), await ShopAssertions.StoredAsync(fixture, store.Id));
    }

    [Fact]
    public async Task an_incremental_sync_fetches_only_what_changed()
    {
        var (shop, shopToken) = GeneratedShop(seed: 12, orders: 300);
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id);
        var pagesBefore = shop.Requests["orders"];

        var customer = shop.Customers.First(c => c.Id > 0);
        shop.PlaceOrder(new NewOrder { Customer = customer });
        shop.PlaceOrder(new NewOrder());
        var refunded = shop.Orders.First(o => o.CancelledAt == null && o.Refunds.Count == 0 && !o.Test);
        shop.AddRefund(refunded.Id, quantity: 1, refundShipping: true);

        var queued = await Host.Scenario(s =>
        {
            s.Post.Json(new { mode = "incremental" }).ToUrl($"/api/v1/stores/{store.Id}/sync");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(202);
        });
        var status = await fixture.WaitForSyncAsync(token, store.Id);
        Assert.Equal("incremental", status.LastRun!.Mode);
        Assert.Equal("succeeded", status.LastRun.Status);
        Assert.Equal(3, status.LastRun.Fetched.Orders); // two new orders and the refunded one
        Assert.True(shop.Requests["orders"] - pagesBefore <= 2);
        Assert.Equal(ShopAssertions.Expected(shop), await ShopAssertions.StoredAsync(fixture, store.Id));
    }

    [Fact]
    public async Task a_second_sync_request_while_one_is_active_answers_the_same_run()
    {
        var (shop, shopToken) = GeneratedShop(seed: 13, orders: 200);
        shop.Faults.Latency = TimeSpan.FromMilliseconds(50); // keeps the first run busy long enough
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);

        var ids = new List<Guid>();
        foreach (var _ in Enumerable.Range(0, 3))
        {
            var result = await Host.Scenario(s => { s.Post.Url($"/api/v1/stores/{store.Id}/sync"); s.WithBearerToken(token); s.StatusCodeShouldBe(202); });
            ids.Add((await result.ReadAsJsonAsync<QueueSync.Response>())!.RunId);
        }
        Assert.Single(ids.Distinct());
        shop.Faults.Latency = TimeSpan.Zero;
        await fixture.WaitForSyncAsync(token, store.Id);
    }

    [Fact]
    public async Task a_bad_sync_mode_answers_400()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        await Host.Scenario(s =>
        {
            s.Post.Json(new { mode = "everything" }).ToUrl($"/api/v1/stores/{store.Id}/sync");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(400);
        });
    }

    [Fact]
    public async Task a_worker_stopped_mid_paging_resumes_from_its_checkpoint()
    {
        var (shop, shopToken) = GeneratedShop(seed: 14, orders: 400);
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id); // the full sync that connecting queues (bulk: no pages)

        // Runs with nothing before them page everything; this test plays the worker.
        var before = shop.Requests["orders"];
        await RunPagedAsync(store.Id, CancellationToken.None);
        var freshRunPages = shop.Requests["orders"] - before;
        Assert.True(freshRunPages >= 20, $"a paged run of 400 orders took {freshRunPages} pages");

        // Killed after 10 order pages, then run again.
        before = shop.Requests["orders"];
        using var killed = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (shop.Requests["orders"] - before < 10) await Task.Delay(1);
            await killed.CancelAsync();
        });
        var runId = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunPagedAsync(store.Id, killed.Token))
            .ContinueWith(_ => LastRunIdAsync(store.Id)).Unwrap();
        await watcher;
        var resumedFrom = shop.Requests["orders"];
        await using (var scope = Host.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<SyncJob>().RunAsync(store.Id, runId, CancellationToken.None);
        var resumedPages = shop.Requests["orders"] - resumedFrom;
        Assert.True(resumedPages <= freshRunPages - 8, $"resumed run fetched {resumedPages} order pages, a fresh one {freshRunPages}");

        var status = await fixture.WaitForSyncAsync(token, store.Id);
        Assert.Equal(runId, status.LastRun!.RunId);
        Assert.Equal("succeeded", status.LastRun.Status);
        Assert.Equal(ShopAssertions.Expected(shop), await ShopAssertions.StoredAsync(fixture, store.Id));
    }

    [Fact]
    public async Task a_worker_stopped_mid_bulk_file_goes_on_from_the_last_stored_line()
    {
        var (shop, shopToken) = GeneratedShop(seed: 16, orders: 600);
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id);

        // A second full run, stopped once part of its orders file is stored; then run again by another worker.
        var runId = await NewRunAsync(store.Id, "full");
        using var killed = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (Convert.ToInt64(await fixture.ScalarAsync(store.Id, $"SELECT coalesce(max(lines_loaded), 0) FROM sync_bulk_files WHERE run_id = '{runId}' AND kind = 'orders'")) == 0)
                await Task.Delay(5);
            await killed.CancelAsync();
        });
        await using (var scope = Host.Services.CreateAsyncScope())
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => scope.ServiceProvider.GetRequiredService<SyncJob>().RunAsync(store.Id, runId, killed.Token));
        await watcher;
        var storedBefore = Convert.ToInt64(await fixture.ScalarAsync(store.Id, $"SELECT lines_loaded FROM sync_bulk_files WHERE run_id = '{runId}' AND kind = 'orders'"));
        var operations = shop.Bulk.Operations.Count;

        // A download broken off halfway is taken up where it broke, too.
        shop.Bulk.CutDownloads(times: 1);
        await using (var scope = Host.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<SyncJob>().RunAsync(store.Id, runId, CancellationToken.None);

        Assert.Equal(operations, shop.Bulk.Operations.Count); // the same files, no new operation
        Assert.InRange(storedBefore, 1, Convert.ToInt64(await fixture.ScalarAsync(store.Id, $"SELECT object_count FROM sync_bulk_files WHERE run_id = '{runId}' AND kind = 'orders'")) - 1);
        // Every line stored exactly once: the count checked against Shopify's objectCount passed, so no line was read twice.
        var status = await fixture.WaitForSyncAsync(token, store.Id);
        Assert.Equal("succeeded", status.LastRun!.Status);
        Assert.Equal(ShopAssertions.Expected(shop), await ShopAssertions.StoredAsync(fixture, store.Id));
    }

    [Fact]
    public async Task a_full_sync_leaves_alone_the_lines_a_webhook_wrote_after_its_bulk_operation_began()
    {
        var (shop, shopToken) = GeneratedShop(seed: 18, orders: 300);
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id);

        // Two orders' lines changed in Xeno's tables: one as a webhook leaves them when it rewrites an order's lines
        // (orders.lines_written_at, here later than the coming operation's start), the other with no such mark.
        var kept = (long)(await fixture.ScalarAsync(store.Id, "SELECT min(order_id) FROM order_lines"))!;
        var restored = (long)(await fixture.ScalarAsync(store.Id, "SELECT max(order_id) FROM order_lines"))!;
        Assert.NotEqual(kept, restored);
        await fixture.ScalarAsync(store.Id, $"UPDATE orders SET lines_written_at = now() + interval '1 hour' WHERE id = {kept}");
        await fixture.ScalarAsync(store.Id, $"UPDATE order_lines SET quantity = 999 WHERE order_id IN ({kept}, {restored})");

        var runId = await NewRunAsync(store.Id, "full");
        await using (var scope = Host.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<SyncJob>().RunAsync(store.Id, runId, CancellationToken.None);

        Assert.Equal("succeeded", await fixture.ScalarAsync(store.Id, $"SELECT status FROM sync_runs WHERE id = '{runId}'"));
        // The webhook's lines are newer than the file's: they stay. The unmarked order's come back as Shopify has them.
        Assert.Equal(0L, await fixture.ScalarAsync(store.Id, $"SELECT count(*) FROM order_lines WHERE order_id = {kept} AND quantity <> 999"));
        var shopQuantities = shop.Orders.Single(o => o.Id == restored).LineItems.Select(l => l.Quantity).Order().ToList();
        var storedQuantities = (int[])(await fixture.ScalarAsync(store.Id, $"SELECT array_agg(quantity ORDER BY quantity) FROM order_lines WHERE order_id = {restored}"))!;
        Assert.Equal(shopQuantities, storedQuantities);
    }

    [Fact]
    public async Task a_failed_or_expired_bulk_operation_is_paged_instead()
    {
        var (shop, shopToken) = GeneratedShop(seed: 17, orders: 300);
        shop.Bulk.FailNext("INTERNAL_SERVER_ERROR", partialFraction: 0.3); // the first operation started: products
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
        var status = await fixture.WaitForSyncAsync(token, store.Id);
        Assert.Equal("succeeded", status.LastRun!.Status);
        Assert.True(shop.Requests["products"] > 0, "products were paged");
        Assert.Equal(ShopAssertions.Expected(shop), await ShopAssertions.StoredAsync(fixture, store.Id));

        // An operation whose file expired before Xeno read it (a worker down for a week): the run pages that kind.
        var firstRun = status.LastRun.RunId;
        var customersFile = (string)(await fixture.ScalarAsync(store.Id, $"SELECT operation_id FROM sync_bulk_files WHERE run_id = '{firstRun}' AND kind = 'customers'"))!;
        var runId = await NewRunAsync(store.Id, "full");
        await fixture.ScalarAsync(store.Id, $"""
            INSERT INTO sync_bulk_files (tenant_id, run_id, kind, operation_id, status, started_at, url, object_count, lines_loaded, bytes_loaded)
            SELECT tenant_id, '{runId}', kind, operation_id, 'completed', now(), url, object_count, 0, 0
            FROM sync_bulk_files WHERE run_id = '{firstRun}' AND kind = 'customers'
            """);
        shop.Bulk.ExpireResults(customersFile);
        var customerPages = shop.Requests["customers"];
        await using (var scope = Host.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<SyncJob>().RunAsync(store.Id, runId, CancellationToken.None);
        Assert.True(shop.Requests["customers"] > customerPages, "customers were paged");
        Assert.Equal("succeeded", await fixture.ScalarAsync(store.Id, $"SELECT status FROM sync_runs WHERE id = '{runId}'"));
        Assert.Equal(ShopAssertions.Expected(shop), await ShopAssertions.StoredAsync(fixture, store.Id));
    }

    private async Task RunPagedAsync(Guid storeId, CancellationToken ct)
    {
        var runId = await NewRunAsync(storeId, "incremental");
        await using var scope = Host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SyncJob>().RunAsync(storeId, runId, ct);
    }

    /// <summary>A run whose job is not queued: the test plays the worker. An incremental run with nothing before it pages everything.</summary>
    private async Task<Guid> NewRunAsync(Guid storeId, string mode)
    {
        var runId = Guid.CreateVersion7();
        await using var scope = Host.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(storeId);
        var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
        db.SyncRuns.Add(new SyncRun { Id = runId, Mode = mode, Status = "queued", QueuedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return runId;
    }

    private async Task<Guid> LastRunIdAsync(Guid storeId) =>
        (Guid)(await fixture.ScalarAsync(storeId, "SELECT id FROM sync_runs ORDER BY queued_at DESC LIMIT 1"))!;

    [Fact]
    public async Task a_token_shopify_refuses_fails_the_sync_with_a_clear_message_and_no_retry_storm()
    {
        var (shop, shopToken) = GeneratedShop(seed: 15, orders: 50);
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id);

        fixture.Shopify.State.RevokeToken(shop.MyshopifyDomain, shopToken);
        await Host.Scenario(s => { s.Post.Url($"/api/v1/stores/{store.Id}/sync"); s.WithBearerToken(token); s.StatusCodeShouldBe(202); });
        var status = await fixture.WaitForSyncAsync(token, store.Id);
        Assert.Equal("failed", status.State);
        Assert.Contains("Reconnect", status.LastRun!.Error);
    }
}
