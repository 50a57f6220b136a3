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
        var totals = new Counts(
            await db.Products.CountAsync(p => p.DeletedAt == null, ct),
            await db.Customers.CountAsync(c => c.DeletedAt == null, ct),
            await db.Orders.CountAsync(o => o.DeletedAt == null, ct),
            await db.Checkouts.CountAsync(c => c.DeletedAt == null && c.CompletedAt == null, ct));
        if (run is null) return new Response("idle", null, totals);
        var state = run.Status switch { "queued" => "queued", "running" => "running", "failed" => "failed", _ => "idle" };
        return new Response(state, new LastRun(run.Id, run.Mode, run.StartedAt, run.FinishedAt,
            // The API speaks of a run as running until it ends; "queued" shows in the state.
            run.Status is "queued" ? "running" : run.Status,
            new Counts(run.FetchedProducts, run.FetchedCustomers, run.FetchedOrders, run.FetchedAbandonedCheckouts), run.Error), totals);
    }

    public static async Task<IResult> HandleApiAsync(XenoDb db, CancellationToken ct) => TypedResults.Ok(await QueryAsync(db, ct));

    public static async Task<IResult> HandleTileAsync(HttpContext http, XenoDb db, TenantContext tenant, CancellationToken ct)
    {
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        return SyncTile.Create(new SyncTileModel(store.Id, store.LastSyncedAt, store.ConnectionError, await QueryAsync(db, ct)));
    }
}

public sealed record SyncTileModel(Guid StoreId, DateTimeOffset? LastSyncedAt, string? ConnectionError, GetSyncStatus.Response Status)
{
    public bool IsActive => Status.State is "queued" or "running";
}
