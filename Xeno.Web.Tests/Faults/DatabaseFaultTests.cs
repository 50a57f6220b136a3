using Xunit.Abstractions;

namespace Xeno.Web.Tests.Faults;

/// <summary>PostgreSQL restarted (stopped as a crash stops it, then started again) under a running sync.</summary>
[Collection(FaultsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class DatabaseFaultTests(FaultsFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task postgres_restarted_during_a_sync_the_run_still_ends_with_exactly_the_shops_data()
    {
        var (shop, shopToken) = fixture.GeneratedShop(seed: 64, orders: 3000);
        await using var worker = await fixture.StartWorkerAsync();
        var (token, store) = await fixture.ConnectAsync(shop, shopToken);
        var runId = (await fixture.GetAsync<Features.Sync.GetSyncStatus.Response>(token, $"/api/v1/stores/{store.Id}/sync")).LastRun!.RunId;

        await FaultsFixture.WaitUntilAsync(async () => await fixture.CountAsync(store.Id,
                $"SELECT coalesce(max(lines_loaded), 0) FROM sync_bulk_files WHERE run_id = '{runId}' AND kind = 'orders'") > 0,
            "part of the orders file stored", Long, () => worker.Output);
        var loaded = await fixture.CountAsync(store.Id, $"SELECT lines_loaded FROM sync_bulk_files WHERE run_id = '{runId}' AND kind = 'orders'");
        // The fault lands inside the run: it is still running when the server goes down.
        Assert.Equal(1, await fixture.CountAsync(store.Id, $"SELECT count(*) FROM sync_runs WHERE id = '{runId}' AND status = 'running'"));
        await fixture.RestartPostgresAsync(downFor: TimeSpan.FromSeconds(3));
        output.WriteLine($"restarted with {loaded} order lines stored");

        // No one asks again: the run that was under way finishes by itself once the database is back.
        var status = await fixture.WaitForSyncAsync(token, store.Id, Long, () => worker.Output);
        Assert.True(status.LastRun!.Status == "succeeded", $"{status.LastRun.Status}: {status.LastRun.Error}\n{worker.Output}");
        Assert.Equal(runId, status.LastRun.RunId);
        Assert.False(worker.HasExited);
        // And the worker met the outage (rather than the run ending before it).
        Assert.Contains("lost its database", worker.Output);
        output.WriteLine(string.Join('\n', worker.Output.Split('\n').Where(l => l.Contains("lost its database") || l.Contains("Sync ") && l.Contains("succeeded"))));
        await fixture.AssertExactAsync(shop, token, store.Id);
    }
}
