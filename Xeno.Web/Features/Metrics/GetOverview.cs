using System.Text.Json.Serialization;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

/// <summary>
/// Every store of the caller side by side over one range of dates (each store's dates in its own zone), and totals per
/// currency: amounts in different currencies are never added together.
/// </summary>
public static class GetOverview
{
    public sealed record Item(Guid StoreId, string ShopDomain, string Name, string Currency, int Orders, decimal NetSales, decimal TotalSales,
        decimal AverageOrderValue)
    {
        /// <summary>With <c>compare</c> only.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public Changes? Change { get; init; }
    }

    public sealed record Changes(decimal? Orders, decimal? NetSales, decimal? TotalSales, decimal? AverageOrderValue);
    public sealed record Total(string Currency, int Stores, int Orders, decimal NetSales, decimal TotalSales);
    public sealed record Response(IReadOnlyList<Item> Items, IReadOnlyList<Total> Totals);

    /// <summary>A store's figures before rounding, so that totals are sums of exact amounts.</summary>
    private sealed record Figures(int Orders, decimal Net, decimal Total, decimal Aov);

    public static async Task<IResult> HandleApiAsync([AsParameters] RangeQuery query, HttpContext http, XenoDb db, TimeProvider clock,
        IServiceScopeFactory scopes, CancellationToken ct)
    {
        if (!MetricsFormat.TryCsv(query.Format, http.Request, out var csv)) return MetricsFormat.Bad;
        if (!MetricsComparison.TryParse(query.Compare, out var compare)) return MetricsComparison.Bad;
        // Membership decides which stores are the caller's (as for GET /api/v1/stores); the stores table itself is not
        // tenant-owned, the figures are.
        var stores = await ListStores.QueryAsync(db, http.User.UserId());
        // The dates are checked even without a store, so that a bad request is bad whatever the account holds.
        if (stores.Count == 0 && MetricsRange.Parse(query.From, query.To, Placeholder, MetricsRange.Today("UTC", clock)).Error is { } bad)
            return bad;

        var ranges = new List<(Store, MetricsRange)>();
        foreach (var store in stores)
        {
            var (range, error) = MetricsRange.Parse(query.From, query.To, store, MetricsRange.Today(store.Timezone, clock));
            if (range is null) return error!;
            ranges.Add((store, range));
        }
        var body = await QueryAsync(scopes, ranges, compare, ct);
        return csv ? Csv(body, CsvDates(query.From, query.To), compare is not null) : TypedResults.Ok(body);
    }

    /// <summary>The figures of each store over its own range (its dates in its own zone), compared when asked, and the
    /// totals per currency. Each store is its own tenant: a scope of its own with the tenant set, so that both walls (the
    /// EF Core filter and row-level security on app.tenant_id) hold for its queries, as for any request of that store
    /// alone.</summary>
    public static async Task<Response> QueryAsync(IServiceScopeFactory scopes, IReadOnlyList<(Store Store, MetricsRange Range)> stores,
        CompareWith? compare, CancellationToken ct)
    {
        var items = new List<(Item Item, Figures Now)>();
        foreach (var (store, range) in stores)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(store.Id);
            var storeDb = scope.ServiceProvider.GetRequiredService<XenoDb>();
            var now = await FiguresAsync(storeDb, range, ct);
            var item = new Item(store.Id, store.ShopDomain, store.Name, store.Currency, now.Orders, Money.Round(now.Net), Money.Round(now.Total),
                Money.Round(now.Aov));
            if (compare is { } c)
            {
                var then = await FiguresAsync(storeDb, MetricsComparison.Of(range, c), ct);
                item = item with
                {
                    Change = new Changes(MetricsComparison.Change(now.Orders, then.Orders),
                        MetricsComparison.Change(item.NetSales, Money.Round(then.Net)), MetricsComparison.Change(item.TotalSales, Money.Round(then.Total)),
                        MetricsComparison.Change(item.AverageOrderValue, Money.Round(then.Aov))),
                };
            }
            items.Add((item, now));
        }

        var totals = items.GroupBy(i => i.Item.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new Total(g.Key, g.Count(), g.Sum(i => i.Now.Orders), Money.Round(g.Sum(i => i.Now.Net)), Money.Round(g.Sum(i => i.Now.Total))))
            .ToList();
        return new Response(items.Select(i => i.Item).ToList(), totals);
    }

    private static readonly Store Placeholder = new() { ShopDomain = "", Name = "", Currency = "", Timezone = "UTC" };

    /// <summary>From the store's daily figures (the range's days only), as the summary adds them up.</summary>
    private static async Task<Figures> FiguresAsync(XenoDb db, MetricsRange range, CancellationToken ct)
    {
        var days = await GetDaily.QueryAsync(db, range, ct);
        var orders = days.Sum(d => d.Orders);
        var sales = days.Sum(d => d.GrossSales - d.Discounts);
        return new Figures(orders, days.Sum(d => d.NetSales), days.Sum(d => d.TotalSales), orders == 0 ? 0 : sales / orders);
    }

    /// <summary>What the file name says of the dates: as asked, or <c>last-30-days</c> for the default range.</summary>
    public static string CsvDates(string? from, string? to) =>
        string.IsNullOrEmpty(from) && string.IsNullOrEmpty(to) ? "last-30-days" : $"{from}-{to}".Trim('-');

    /// <summary>One row per store (kind <c>store</c>), then one per currency (kind <c>total</c>, with the number of stores).</summary>
    public static MetricsCsv Csv(Response body, string dates, bool compared)
    {
        var header = new List<string> { "kind", "storeId", "shopDomain", "name", "currency", "stores", "orders", "netSales", "totalSales", "averageOrderValue" };
        if (compared) header.AddRange(["changeOrders", "changeNetSales", "changeTotalSales", "changeAverageOrderValue"]);
        var csv = new MetricsCsv(MetricsCsv.FileName("", "overview", dates), header);
        foreach (var i in body.Items)
        {
            object?[] cells = ["store", i.StoreId, i.ShopDomain, i.Name, i.Currency, null, i.Orders, i.NetSales, i.TotalSales, i.AverageOrderValue];
            csv.Row(compared ? [.. cells, i.Change?.Orders, i.Change?.NetSales, i.Change?.TotalSales, i.Change?.AverageOrderValue] : cells);
        }
        foreach (var t in body.Totals)
        {
            object?[] cells = ["total", null, null, null, t.Currency, t.Stores, t.Orders, t.NetSales, t.TotalSales, null];
            csv.Row(compared ? [.. cells, null, null, null, null] : cells);
        }
        return csv;
    }
}
