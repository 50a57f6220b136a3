using System.Globalization;
using System.Text.Json.Serialization;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetProducts
{
    public sealed record Item(string? ProductId, string Title, int UnitsSold, int UnitsReturned,
        decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales)
    {
        /// <summary>With <c>compare</c> only: the product's net sales over the comparison range (0 without any).</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public decimal? ComparisonNetSales { get; init; }
    }
    public sealed record Response(IReadOnlyList<Item> Items);

    // METRICS.md "Products": sales on order dates, returns on refund dates, per product and day as the data lands
    // (ShopAggregates); lines without a product form one "Custom items" row (key 0, which no Shopify id is); a deleted
    // product keeps its sales under its last known title.
    private const string Sql = """
        WITH merged AS (
          SELECT product_key, sum(units_sold) AS units_sold, sum(units_returned) AS units_returned, sum(gross) AS gross,
                 sum(discounts) AS discounts, sum(returns) AS returns, coalesce(max(title), max(returned_title)) AS line_title
          FROM product_daily WHERE tenant_id = @tenant AND day BETWEEN @from AND @to
          GROUP BY product_key)
        SELECT NULLIF(m.product_key, 0), coalesce(p.title, m.line_title), m.units_sold, m.units_returned, m.gross, m.discounts, m.returns,
               m.gross - m.discounts - m.returns AS net
        FROM merged m LEFT JOIN products p ON p.tenant_id = @tenant AND p.id = m.product_key
        ORDER BY net DESC, NULLIF(m.product_key, 0) ASC NULLS LAST
        LIMIT @limit
        """;

    public static async Task<IResult> HandleApiAsync([AsParameters] RankedRangeQuery query, HttpRequest request, XenoDb db, TenantContext tenant,
        TimeProvider clock, CancellationToken ct)
    {
        if (!MetricsRange.TryLimit(query.Limit, 10, out var limit)) return MetricsRange.Bad("limit must be a whole number from 1 to 100.");
        var (ask, error) = await MetricsRequest.ParseAsync(query.Range, request, db, tenant, clock);
        if (ask is null) return error!;
        var items = await QueryAsync(db, ask.Range, limit, ct);
        if (ask.Comparison is { } earlier) items = await WithComparisonAsync(db, items, earlier, ct);
        return ask.Csv ? Csv(items, ask.Range, ask.Comparison is not null) : TypedResults.Ok(new Response(items));
    }

    // The listed products' net sales over the comparison range ("Custom items" is key 0).
    private const string ComparisonSql = """
        SELECT product_key, sum(gross) - sum(discounts) - sum(returns) FROM product_daily
        WHERE tenant_id = @tenant AND day BETWEEN @from AND @to AND product_key = ANY(@keys)
        GROUP BY product_key
        """;

    /// <summary>The items, each with the same product's net sales over <paramref name="earlier"/> (0 when it had none).</summary>
    public static async Task<List<Item>> WithComparisonAsync(XenoDb db, List<Item> items, MetricsRange earlier, CancellationToken ct)
    {
        var keys = items.Select(i => i.ProductId is null ? 0L : long.Parse(i.ProductId, CultureInfo.InvariantCulture)).ToArray();
        var nets = (await MetricsSql.QueryAsync(db, earlier, ComparisonSql, r => (Key: r.GetInt64(0), Net: r.GetDecimal(1)),
            c => c.Parameters.AddWithValue("keys", keys), ct)).ToDictionary(r => r.Key, r => r.Net);
        return items.Select((item, i) => item with { ComparisonNetSales = Money.Round(nets.GetValueOrDefault(keys[i])) }).ToList();
    }

    private static MetricsCsv Csv(List<Item> items, MetricsRange range, bool compared)
    {
        var header = new List<string> { "productId", "title", "unitsSold", "unitsReturned", "grossSales", "discounts", "returns", "netSales" };
        if (compared) header.Add("comparisonNetSales");
        var csv = new MetricsCsv(MetricsCsv.FileName(range, "products"), header);
        foreach (var i in items)
        {
            object?[] cells = [i.ProductId, i.Title, i.UnitsSold, i.UnitsReturned, i.GrossSales, i.Discounts, i.Returns, i.NetSales];
            csv.Row(compared ? [.. cells, i.ComparisonNetSales] : cells);
        }
        return csv;
    }

    public static Task<List<Item>> QueryAsync(XenoDb db, MetricsRange range, int limit, CancellationToken ct) =>
        MetricsSql.QueryAsync(db, range, Sql, r => new Item(
            r.IsDBNull(0) ? null : r.GetInt64(0).ToString(CultureInfo.InvariantCulture),
            r.IsDBNull(0) ? "Custom items" : r.IsDBNull(1) ? "" : r.GetString(1),
            (int)r.GetInt64(2), (int)r.GetInt64(3),
            Money.Round(r.GetDecimal(4)), Money.Round(r.GetDecimal(5)), Money.Round(r.GetDecimal(6)), Money.Round(r.GetDecimal(7))),
            c => c.Parameters.AddWithValue("limit", limit), ct);
}
