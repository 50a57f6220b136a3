using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetTopCustomers
{
    public sealed record Item(string CustomerId, string? Name, string? Email, int Orders, decimal NetSales);
    public sealed record Response(IReadOnlyList<Item> Items);

    // METRICS.md "Top customers": (gross − discounts) of their orders dated in the range, minus returns of
    // refunds dated in the range on their orders; customers with an order in the range; net desc, id asc.
    private const string Sql = $$"""
        WITH {{MetricsSql.Bounds}},
        o AS (
          SELECT o.id, o.customer_id FROM orders o, bounds
          WHERE o.tenant_id = @tenant AND NOT o.test AND o.deleted_at IS NULL AND o.customer_id IS NOT NULL
            AND o.processed_at >= bounds.lo AND o.processed_at < bounds.hi),
        sales AS (
          SELECT o.customer_id, count(DISTINCT o.id) AS orders,
                 coalesce(sum(l.original_unit_price * l.quantity - l.discount_allocated) FILTER (WHERE NOT l.is_gift_card), 0) AS net
          FROM o LEFT JOIN order_lines l ON l.tenant_id = @tenant AND l.order_id = o.id
          GROUP BY o.customer_id),
        ret AS (
          SELECT x.customer_id, sum(rl.subtotal) AS returns
          FROM refunds r
          JOIN orders x ON x.tenant_id = @tenant AND x.id = r.order_id AND NOT x.test AND x.deleted_at IS NULL
          JOIN refund_lines rl ON rl.tenant_id = @tenant AND rl.refund_id = r.id
          LEFT JOIN order_lines l ON l.tenant_id = @tenant AND l.id = rl.line_item_id, bounds
          WHERE r.tenant_id = @tenant AND r.created_at >= bounds.lo AND r.created_at < bounds.hi
            AND x.customer_id IN (SELECT customer_id FROM sales) AND NOT coalesce(l.is_gift_card, false)
          GROUP BY x.customer_id)
        SELECT s.customer_id, c.first_name, c.last_name, c.email, s.orders, s.net - coalesce(ret.returns, 0) AS net
        FROM sales s
        LEFT JOIN ret USING (customer_id)
        LEFT JOIN customers c ON c.tenant_id = @tenant AND c.id = s.customer_id
        ORDER BY net DESC, s.customer_id
        LIMIT @limit
        """;

    public static async Task<IResult> HandleApiAsync(HttpRequest request, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var (range, error) = await MetricsRange.ParseAsync(request, db, tenant, clock);
        if (range is null) return error!;
        if (!MetricsRange.TryLimit(request.Query["limit"], 5, out var limit)) return MetricsRange.Bad("limit must be a whole number from 1 to 100.");
        return TypedResults.Ok(new Response(await QueryAsync(db, range, limit, ct)));
    }

    public static Task<List<Item>> QueryAsync(XenoDb db, MetricsRange range, int limit, CancellationToken ct) =>
        MetricsSql.QueryAsync(db, range, Sql, r =>
        {
            var first = r.IsDBNull(1) ? null : r.GetString(1);
            var last = r.IsDBNull(2) ? null : r.GetString(2);
            var email = r.IsDBNull(3) ? null : r.GetString(3);
            // First and last name joined (whichever exist), else the email, else nothing.
            var name = string.Join(' ', new[] { first, last }.Where(n => !string.IsNullOrWhiteSpace(n)));
            return new Item(r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                name.Length > 0 ? name : email, email, (int)r.GetInt64(4), Money.Round(r.GetDecimal(5)));
        }, c => c.Parameters.AddWithValue("limit", limit), ct);
}
