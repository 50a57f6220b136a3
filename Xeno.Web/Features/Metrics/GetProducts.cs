using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetProducts
{
    public sealed record Item(string? ProductId, string Title, int UnitsSold, int UnitsReturned,
        decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales);
    public sealed record Response(IReadOnlyList<Item> Items);

    // METRICS.md "Products": sales on order dates, returns on refund dates; lines without a product form
    // one "Custom items" row; a deleted product keeps its sales under its last known title.
    private const string Sql = $$"""
        WITH {{MetricsSql.Bounds}},
        sold AS (
          SELECT coalesce(l.product_id, 0) AS k, sum(l.quantity) AS units, sum(l.original_unit_price * l.quantity) AS gross,
                 sum(l.discount_allocated) AS discounts, max(l.title) AS title
          FROM orders o JOIN order_lines l ON l.tenant_id = @tenant AND l.order_id = o.id AND NOT l.is_gift_card, bounds
          WHERE o.tenant_id = @tenant AND NOT o.test AND o.deleted_at IS NULL AND o.processed_at >= bounds.lo AND o.processed_at < bounds.hi
          GROUP BY 1),
        returned AS (
          SELECT coalesce(l.product_id, 0) AS k, sum(rl.quantity) AS units, sum(rl.subtotal) AS returns, max(l.title) AS title
          FROM refunds r
          JOIN orders x ON x.tenant_id = @tenant AND x.id = r.order_id AND NOT x.test AND x.deleted_at IS NULL
          JOIN refund_lines rl ON rl.tenant_id = @tenant AND rl.refund_id = r.id
          JOIN order_lines l ON l.tenant_id = @tenant AND l.id = rl.line_item_id AND NOT l.is_gift_card, bounds
          WHERE r.tenant_id = @tenant AND r.created_at >= bounds.lo AND r.created_at < bounds.hi
          GROUP BY 1),
        merged AS (
          SELECT NULLIF(coalesce(s.k, r.k), 0) AS product_id, coalesce(s.units, 0) AS units_sold, coalesce(r.units, 0) AS units_returned,
                 coalesce(s.gross, 0) AS gross, coalesce(s.discounts, 0) AS discounts, coalesce(r.returns, 0) AS returns,
                 coalesce(s.title, r.title) AS line_title
          -- Custom items (no product) are keyed 0, which no Shopify id is: FULL JOIN needs a plain equality.
          FROM sold s FULL JOIN returned r ON s.k = r.k)
        SELECT m.product_id, coalesce(p.title, m.line_title), m.units_sold, m.units_returned, m.gross, m.discounts, m.returns,
               m.gross - m.discounts - m.returns AS net
        FROM merged m LEFT JOIN products p ON p.tenant_id = @tenant AND p.id = m.product_id
        ORDER BY net DESC, m.product_id ASC NULLS LAST
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
