using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetProducts
{
    public sealed record Item(string? ProductId, string Title, int UnitsSold, int UnitsReturned,
        decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales);
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

    public static async Task<IResult> HandleApiAsync(HttpRequest request, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var (range, error) = await MetricsRange.ParseAsync(request, db, tenant, clock);
        if (range is null) return error!;
        if (!MetricsRange.TryLimit(request.Query["limit"], 10, out var limit)) return MetricsRange.Bad("limit must be a whole number from 1 to 100.");
        return TypedResults.Ok(new Response(await QueryAsync(db, range, limit, ct)));
    }

    public static Task<List<Item>> QueryAsync(XenoDb db, MetricsRange range, int limit, CancellationToken ct) =>
        MetricsSql.QueryAsync(db, range, Sql, r => new Item(
            r.IsDBNull(0) ? null : r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture),
            r.IsDBNull(0) ? "Custom items" : r.IsDBNull(1) ? "" : r.GetString(1),
            (int)r.GetInt64(2), (int)r.GetInt64(3),
            Money.Round(r.GetDecimal(4)), Money.Round(r.GetDecimal(5)), Money.Round(r.GetDecimal(6)), Money.Round(r.GetDecimal(7))),
            c => c.Parameters.AddWithValue("limit", limit), ct);
}
