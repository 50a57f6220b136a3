using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Metrics;

/// <summary>One day's orders and net sales per local hour (METRICS.md "Sales" with hours for dates), for the
/// dashboard's single-day chart. The aggregates keep days, not hours, so this reads the orders and refunds of that
/// one day: a bounded query, through the (tenant, processed_at) and (tenant, created_at) indexes.</summary>
public static class GetHourly
{
    public sealed record Hour(int Of, int Orders, decimal NetSales);

    // Sales on the order's hour, returns on the refund's hour; counted orders only, gift cards left out.
    // REVIEW: on the day clocks go back, the repeated hour adds up both of its occurrences.
    private const string Sql = $"""
        WITH {MetricsSql.Bounds},
        sold AS (
          SELECT extract(hour FROM o.processed_at AT TIME ZONE @tz)::int AS hour, count(DISTINCT o.id) AS orders,
                 coalesce(sum(l.original_unit_price * l.quantity - l.discount_allocated) FILTER (WHERE NOT l.is_gift_card), 0) AS net
          FROM orders o CROSS JOIN bounds LEFT JOIN order_lines l ON l.tenant_id = @tenant AND l.order_id = o.id
          WHERE o.tenant_id = @tenant AND NOT o.test AND o.deleted_at IS NULL
            AND o.processed_at >= bounds.lo AND o.processed_at < bounds.hi
          GROUP BY 1),
        returned AS (
          SELECT extract(hour FROM r.created_at AT TIME ZONE @tz)::int AS hour, sum(rl.subtotal) AS returns
          FROM refunds r CROSS JOIN bounds
          JOIN orders o ON o.tenant_id = @tenant AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
          JOIN refund_lines rl ON rl.tenant_id = @tenant AND rl.refund_id = r.id
          LEFT JOIN order_lines l ON l.tenant_id = @tenant AND l.id = rl.line_item_id
          WHERE r.tenant_id = @tenant AND r.created_at >= bounds.lo AND r.created_at < bounds.hi AND NOT coalesce(l.is_gift_card, false)
          GROUP BY 1)
        SELECT h, coalesce(sold.orders, 0), coalesce(sold.net, 0) - coalesce(returned.returns, 0)
        FROM generate_series(0, 23) h LEFT JOIN sold ON sold.hour = h LEFT JOIN returned ON returned.hour = h
        ORDER BY h
        """;

    /// <summary>The 24 hours of <c>range.From</c> in the shop's zone, zeros included.</summary>
    public static Task<List<Hour>> QueryAsync(XenoDb db, MetricsRange range, CancellationToken ct) =>
        MetricsSql.QueryAsync(db, range with { To = range.From }, Sql,
            r => new Hour(r.GetInt32(0), (int)r.GetInt64(1), Money.Round(r.GetDecimal(2))), ct: ct);
}
