using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Metrics;
using Xeno.Web.Features.Stores;
using Xeno.Web.Features.Sync;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Dashboard;

/// <summary>The store's dashboard: every tile drawn on the server for the range in the URL; afterwards
/// each tile polls, and answers 204 (no query) while the store's data version has not moved.</summary>
public static class ShowDashboard
{
    public static readonly string[] Tiles = ["summary", "daily", "top-customers", "products", "checkouts", "segments"];

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        var range = DashboardRange.Parse(http.Request.Query, MetricsRange.Today(store.Timezone, clock));
        var tiles = new List<TileModel>();
        foreach (var name in Tiles) tiles.Add(await TileModel.BuildAsync(db, store, range, name, ct));
        var sync = new SyncTileModel(store.Id, store.LastSyncedAt, store.ConnectionError, await GetSyncStatus.QueryAsync(db, ct),
            await db.Refunds.CountAsync(r => r.DetailsPending, ct));
        var model = new DashboardModel(http.User.Identity!.Name!, StoreResponse.From(store), store.ConnectionError, range, tiles, sync);
        http.Response.Headers.Vary = "HX-Request";
        // The range picker swaps the tiles only; a full visit gets the page.
        return http.Request.Headers.ContainsKey("HX-Request") && !http.Request.Headers.ContainsKey("HX-Boosted")
            ? DashboardTiles.Create(model)
            : DashboardPage.Create(model);
    }

    public static async Task<IResult> HandleTileAsync(string name, HttpContext http, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        if (!Tiles.Contains(name)) return TypedResults.NotFound();
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        // Nothing changed since the tile was drawn: no metric query, and htmx leaves the tile as it is.
        if (long.TryParse(http.Request.Query["v"], out var drawn) && drawn == store.DataVersion) return TypedResults.NoContent();
        var range = DashboardRange.Parse(http.Request.Query, MetricsRange.Today(store.Timezone, clock));
        http.Response.Headers.Vary = "HX-Request";
        return Tile.Create(await TileModel.BuildAsync(db, store, range, name, ct));
    }
}

public sealed record DashboardModel(string UserEmail, StoreResponse Store, string? ConnectionError, DashboardRange Range, IReadOnlyList<TileModel> Tiles, SyncTileModel Sync);

/// <summary>One tile: which, for which range, drawn at which data version, and its figures.</summary>
public sealed record TileModel(Guid StoreId, string Name, string Currency, DashboardRange Range, long Version, object Data)
{
    public string PollUrl => $"/stores/{StoreId}/tiles/{Name}?{Range.Query}&v={Version}";

    public static async Task<TileModel> BuildAsync(XenoDb db, Store store, DashboardRange range, string name, CancellationToken ct)
    {
        var metrics = new MetricsRange(store.Id, store.Currency, store.Timezone, range.From, range.To);
        object data = name switch
        {
            "summary" => await GetSummary.QueryAsync(db, metrics, ct),
            "daily" => await GetDaily.QueryAsync(db, metrics, ct),
            "top-customers" => await GetTopCustomers.QueryAsync(db, metrics, 5, ct),
            "products" => await GetProducts.QueryAsync(db, metrics, 10, ct),
            "checkouts" => await GetCheckouts.QueryAsync(db, metrics, ct),
            _ => await GetSegments.QueryAsync(db, metrics with { From = range.To }, ct),
        };
        return new TileModel(store.Id, name, store.Currency, range, store.DataVersion, data);
    }
}
