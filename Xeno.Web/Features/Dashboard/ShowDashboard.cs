using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Html;
using RazorSlices;
using Xeno.Web.Features.Metrics;
using Xeno.Web.Features.Shared;
using Xeno.Web.Features.Stores;
using Xeno.Web.Features.Sync;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Dashboard;

/// <summary>The store's dashboard: every tile drawn on the server for the range and comparison in the URL; afterwards
/// each tile polls, and answers 204 (no query) while the store's data version has not moved. A tile's address with
/// <c>format=csv</c> answers the CSV of its metrics endpoint for the same range: the API itself takes a bearer token
/// only, which a download link cannot send.</summary>
public static class ShowDashboard
{
    public static readonly string[] Tiles = ["summary", "daily", "top-customers", "products", "checkouts", "segments"];

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        var range = DashboardRange.Parse(http.Request.Query, MetricsRange.Today(store.Timezone, clock));
        var compare = CompareChoices.Parse(http.Request.Query["compare"]);
        // Dates that cannot be shown draw no tile: the picker says what is wrong, with the dates as typed.
        var tiles = new List<RazorSlice>();
        if (range.Error is null)
            foreach (var name in Tiles) tiles.Add(await BuildTileAsync(db, store, range, compare, name, ct));
        var sync = await GetSyncStatus.BuildTileAsync(db, store, await GetSyncStatus.VersionAsync(db, store, ct), ct);
        var model = new DashboardModel(http.User.Identity!.Name!, StoreResponse.From(store), store.ConnectionError, range, compare, tiles, sync);
        http.Response.Headers.Vary = "HX-Request";
        // The range picker swaps the tiles only; a full visit gets the page.
        return http.Request.Headers.ContainsKey("HX-Request") && !http.Request.Headers.ContainsKey("HX-Boosted")
            ? DashboardTiles.Create(model)
            : DashboardPage.Create(model);
    }

    public static async Task<IResult> HandleTileAsync(string name, HttpContext http, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        if (!Tiles.Contains(name)) return TypedResults.NotFound();
        var query = http.Request.Query;
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        var range = DashboardRange.Parse(query, MetricsRange.Today(store.Timezone, clock));
        if (range.Error is not null) return MetricsRange.Bad(range.Error);
        var compare = CompareChoices.Parse(query["compare"]);
        if (query["format"] == "csv") return await CsvAsync(name, http, db, tenant, clock, range, compare, ct);
        // Nothing changed since the tile was drawn: no metric query, and htmx leaves the tile as it is.
        if (long.TryParse(query["v"], out var drawn) && drawn == store.DataVersion) return TypedResults.NoContent();
        http.Response.Headers.Vary = "HX-Request";
        return await BuildTileAsync(db, store, range, compare, name, ct);
    }

    /// <summary>A tile's slice, typed by what its use case answers; a single day's chart goes by the hour. With a
    /// comparison, the figures come with their changes and the chart with the comparison range beside it.</summary>
    private static async Task<RazorSlice> BuildTileAsync(XenoDb db, Store store, DashboardRange range, CompareWith? compare, string name,
        CancellationToken ct)
    {
        var metrics = new MetricsRange(store.Id, store.Currency, store.Timezone, range.From, range.To);
        var earlier = compare is { } with ? MetricsComparison.Of(metrics, with) : null;
        TileModel<T> Tile<T>(T data) => new(store.Id, name, store.Currency, range, compare, store.DataVersion, data);
        switch (name)
        {
            case "summary": return SummaryTile.Create(Tile(await GetSummary.QueryAsync(db, metrics, earlier, ct)));
            case "daily" when range.IsSingleDay:
                var hours = await GetHourly.QueryAsync(db, metrics, ct);
                return DailyTile.Create(Tile(Chart.Hours(range.From, hours, earlier is null ? null : await GetHourly.QueryAsync(db, earlier, ct), earlier?.From)));
            case "daily":
                var days = await GetDaily.QueryAsync(db, metrics, ct);
                return DailyTile.Create(Tile(Chart.Days(days, earlier is null ? null : await GetDaily.QueryAsync(db, earlier, ct))));
            case "top-customers":
                var customers = await GetTopCustomers.QueryAsync(db, metrics, TopCustomersShown, ct);
                if (earlier is not null) customers = await GetTopCustomers.WithComparisonAsync(db, customers, earlier, ct);
                return TopCustomersTile.Create(Tile(customers));
            case "products":
                var products = await GetProducts.QueryAsync(db, metrics, ProductsShown, ct);
                if (earlier is not null) products = await GetProducts.WithComparisonAsync(db, products, earlier, ct);
                return ProductsTile.Create(Tile(products));
            case "checkouts": return CheckoutsTile.Create(Tile(await GetCheckouts.QueryAsync(db, metrics, earlier, ct)));
            default: return SegmentsTile.Create(Tile(await GetSegments.QueryAsync(db, metrics with { From = range.To }, ct)));
        }
    }

    private const int TopCustomersShown = 5, ProductsShown = 10;

    /// <summary>The tile's figures as its metrics endpoint writes them in CSV, for the tile's range, comparison and length.</summary>
    private static Task<IResult> CsvAsync(string name, HttpContext http, XenoDb db, TenantContext tenant, TimeProvider clock,
        DashboardRange range, CompareWith? compare, CancellationToken ct)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var (from, to) = (range.From.ToString("yyyy-MM-dd", inv), range.To.ToString("yyyy-MM-dd", inv));
        var key = compare.Key();
        var ranged = new RangeQuery(from, to, key, "csv");
        return name switch
        {
            "summary" => GetSummary.HandleApiAsync(ranged, http.Request, db, tenant, clock, ct),
            "daily" => GetDaily.HandleApiAsync(ranged, http.Request, db, tenant, clock, ct),
            "top-customers" => GetTopCustomers.HandleApiAsync(new RankedRangeQuery(from, to, $"{TopCustomersShown}", key, "csv"), http.Request, db, tenant, clock, ct),
            "products" => GetProducts.HandleApiAsync(new RankedRangeQuery(from, to, $"{ProductsShown}", key, "csv"), http.Request, db, tenant, clock, ct),
            "checkouts" => GetCheckouts.HandleApiAsync(ranged, http.Request, db, tenant, clock, ct),
            _ => GetSegments.HandleApiAsync(new AsOfQuery(to, "csv"), http.Request, db, tenant, clock, ct),
        };
    }
}

public sealed record DashboardModel(string UserEmail, StoreResponse Store, string? ConnectionError, DashboardRange Range, CompareWith? Compare,
    IReadOnlyList<RazorSlice> Tiles, SyncTileModel Sync);

/// <summary>One tile: which, for which range and comparison, drawn at which data version, and the figures of its use case.</summary>
public sealed record TileModel<T>(Guid StoreId, string Name, string Currency, DashboardRange Range, CompareWith? Compare, long Version, T Data)
{
    public string PollUrl => $"/stores/{StoreId}/tiles/{Name}?{Range.Query}{Compare.Query()}&v={Version}";

    /// <summary>The tile's figures as CSV, for its range and comparison.</summary>
    public string CsvUrl => $"/stores/{StoreId}/tiles/{Name}?{Range.Query}{Compare.Query()}&format=csv";

    public bool Compared => Compare is not null;

    /// <summary>What the comparison range is, in words: "the previous period".</summary>
    public string Against => ChangeText.Against(Compare);

    public IHtmlContent Change(decimal? change, bool upIsGood = true) => ChangeText.Render(change, upIsGood, Against);

    public string Money(decimal amount) => Formats.Money(amount, Currency);
}
