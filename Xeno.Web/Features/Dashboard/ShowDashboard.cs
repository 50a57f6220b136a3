using Microsoft.EntityFrameworkCore;
using RazorSlices;
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
        // Dates that cannot be shown draw no tile: the picker says what is wrong, with the dates as typed.
        var tiles = new List<RazorSlice>();
        if (range.Error is null)
            foreach (var name in Tiles) tiles.Add(await BuildTileAsync(db, store, range, name, ct));
        var sync = await GetSyncStatus.BuildTileAsync(db, store, await GetSyncStatus.VersionAsync(db, store, ct), ct);
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
        if (range.Error is not null) return MetricsRange.Bad(range.Error);
        http.Response.Headers.Vary = "HX-Request";
        return await BuildTileAsync(db, store, range, name, ct);
    }

    /// <summary>A tile's slice, typed by what its use case answers; a single day's chart goes by the hour.</summary>
    private static async Task<RazorSlice> BuildTileAsync(XenoDb db, Store store, DashboardRange range, string name, CancellationToken ct)
    {
        var metrics = new MetricsRange(store.Id, store.Currency, store.Timezone, range.From, range.To);
        TileModel<T> Tile<T>(T data) => new(store.Id, name, store.Currency, range, store.DataVersion, data);
        return name switch
        {
            "summary" => SummaryTile.Create(Tile(await GetSummary.QueryAsync(db, metrics, ct))),
            "daily" => DailyTile.Create(Tile(range.IsSingleDay
                ? Chart.Hours(range.From, await GetHourly.QueryAsync(db, metrics, ct))
                : Chart.Days(await GetDaily.QueryAsync(db, metrics, ct)))),
            "top-customers" => TopCustomersTile.Create(Tile(await GetTopCustomers.QueryAsync(db, metrics, 5, ct))),
            "products" => ProductsTile.Create(Tile(await GetProducts.QueryAsync(db, metrics, 10, ct))),
            "checkouts" => CheckoutsTile.Create(Tile(await GetCheckouts.QueryAsync(db, metrics, ct))),
            _ => SegmentsTile.Create(Tile(await GetSegments.QueryAsync(db, metrics with { From = range.To }, ct))),
        };
    }
}

public sealed record DashboardModel(string UserEmail, StoreResponse Store, string? ConnectionError, DashboardRange Range, IReadOnlyList<RazorSlice> Tiles, SyncTileModel Sync);

/// <summary>One tile: which, for which range, drawn at which data version, and the figures of its use case.</summary>
public sealed record TileModel<T>(Guid StoreId, string Name, string Currency, DashboardRange Range, long Version, T Data)
{
    public string PollUrl => $"/stores/{StoreId}/tiles/{Name}?{Range.Query}&v={Version}";

    public string Money(decimal amount) => Formats.Money(amount, Currency);
}
