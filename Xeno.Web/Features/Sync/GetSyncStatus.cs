using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Sync;

public static class GetSyncStatus
{
    public sealed record Counts(int Products, int Customers, int Orders, int AbandonedCheckouts);
    public sealed record LastRun(Guid RunId, string Mode, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string Status, Counts Fetched, string? Error);
    public sealed record Response(string State, LastRun? LastRun, Counts Totals);

    public static async Task<Response> QueryAsync(XenoDb db, CancellationToken ct)
    {
        var run = await db.SyncRuns.AsNoTracking().OrderByDescending(r => r.QueuedAt).FirstOrDefaultAsync(ct);
        // One round trip for all four totals: the tile asks every two seconds while a sync runs.
        // REVIEW: these counts read every live row of the store; past a million orders keep running totals instead.
        var totals = await db.Stores.Where(s => s.Id == db.CurrentTenantId).Select(_ => new Counts(
            db.Products.Count(p => p.DeletedAt == null),
            db.Customers.Count(c => c.DeletedAt == null),
            db.Orders.Count(o => o.DeletedAt == null),
            db.Checkouts.Count(c => c.DeletedAt == null && c.CompletedAt == null))).FirstOrDefaultAsync(ct) ?? new Counts(0, 0, 0, 0);
        if (run is null) return new Response("idle", null, totals);
        var state = run.Status switch { "queued" => "queued", "running" => "running", "failed" => "failed", _ => "idle" };
        return new Response(state, new LastRun(run.Id, run.Mode, run.StartedAt, run.FinishedAt,
            // The API speaks of a run as running until it ends; "queued" shows in the state.
            run.Status is "queued" ? "running" : run.Status,
            new Counts(run.FetchedProducts, run.FetchedCustomers, run.FetchedOrders, run.FetchedAbandonedCheckouts), run.Error), totals);
    }

    public static async Task<IResult> HandleApiAsync(XenoDb db, CancellationToken ct) => TypedResults.Ok(await QueryAsync(db, ct));

    /// <summary>The tile, on the dashboard's poll: 204 (htmx leaves the tile as it is, and the counts are not read)
    /// while nothing it shows can have moved since it was drawn: same data, same last sync, same latest run.</summary>
    public static async Task<IResult> HandleTileAsync(HttpContext http, XenoDb db, TenantContext tenant, CancellationToken ct)
    {
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        var version = await VersionAsync(db, store, ct);
        http.Response.Headers.Vary = "HX-Request";
        if (http.Request.Query["v"] == version) return TypedResults.NoContent();
        return SyncTile.Create(await BuildTileAsync(db, store, version, ct));
    }

    /// <summary>What the tile shows moves with it: the store's data, its last sync, its latest run and its connection.</summary>
    public static async Task<string> VersionAsync(XenoDb db, Store store, CancellationToken ct)
    {
        var run = await db.SyncRuns.AsNoTracking().OrderByDescending(r => r.QueuedAt).Select(r => new { r.Id, r.Status }).FirstOrDefaultAsync(ct);
        return FormattableString.Invariant($"{store.DataVersion}.{store.LastSyncedAt?.UtcTicks}.{run?.Id:N}.{run?.Status}.{(store.ConnectionError is null ? "connected" : "error")}");
    }

    public static async Task<SyncTileModel> BuildTileAsync(XenoDb db, Store store, string version, CancellationToken ct)
    {
        // Few, and found through a partial index: the refunds a sync still has to complete.
        var pendingRefunds = await db.Refunds.CountAsync(r => r.DetailsPending, ct);
        return new SyncTileModel(store.Id, store.Timezone, store.LastSyncedAt, store.ConnectionError, await QueryAsync(db, ct), pendingRefunds, version);
    }
}

/// <summary>The Data sync tile: polls every 2 seconds while a sync runs, and every 20 seconds like the other tiles
/// otherwise, sending the <see cref="Version"/> it was drawn at.</summary>
public sealed record SyncTileModel(Guid StoreId, string TimeZone, DateTimeOffset? LastSyncedAt, string? ConnectionError, GetSyncStatus.Response Status,
    int PendingRefundDetails = 0, string Version = "")
{
    public bool IsActive => Status.State is "queued" or "running";
    // While a sync runs its progress moves without the data version: every poll redraws.
    public string PollUrl => IsActive ? $"/stores/{StoreId}/sync" : $"/stores/{StoreId}/sync?v={Uri.EscapeDataString(Version)}";
}
