using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

/// <summary>Sales per local date (METRICS.md "Sales"): orders on their processed date, returns, refunded
/// shipping and refunded tax on the refund's date. The summary is these days added up.</summary>
public static class GetDaily
{
    public sealed record Day(DateOnly Date, int Orders, decimal GrossSales, decimal Discounts, decimal Returns, decimal Shipping, decimal Taxes)
    {
        public decimal NetSales => GrossSales - Discounts - Returns;
        public decimal TotalSales => NetSales + Shipping + Taxes;
    }

    public sealed record DayResponse(DateOnly Date, int Orders, decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales, decimal TotalSales);
    public sealed record Response(string Currency, IReadOnlyList<DayResponse> Days);

    private const string Sql = $$"""
        WITH {{MetricsSql.Bounds}},
        o AS (
          SELECT o.id, (o.processed_at AT TIME ZONE @tz)::date AS day, o.shipping_price, o.total_tax
          FROM orders o, bounds
          WHERE o.tenant_id = @tenant AND NOT o.test AND o.deleted_at IS NULL AND o.processed_at >= bounds.lo AND o.processed_at < bounds.hi),
        od AS (SELECT day, count(*) AS orders, sum(shipping_price) AS shipping, sum(total_tax) AS tax FROM o GROUP BY day),
        ol AS (
          SELECT o.day, sum(l.original_unit_price * l.quantity) AS gross, sum(l.discount_allocated) AS discounts
          FROM o JOIN order_lines l ON l.tenant_id = @tenant AND l.order_id = o.id AND NOT l.is_gift_card
          GROUP BY o.day),
        r AS (
          SELECT r.id, (r.created_at AT TIME ZONE @tz)::date AS day, r.shipping_refunded, r.shipping_tax_refunded
          FROM refunds r
          JOIN orders x ON x.tenant_id = @tenant AND x.id = r.order_id AND NOT x.test AND x.deleted_at IS NULL, bounds
          WHERE r.tenant_id = @tenant AND r.created_at >= bounds.lo AND r.created_at < bounds.hi),
        rd AS (SELECT day, sum(shipping_refunded) AS shipping, sum(shipping_tax_refunded) AS tax FROM r GROUP BY day),
        rl AS (
          SELECT r.day, sum(x.subtotal) AS returns, sum(x.total_tax) AS tax
          FROM r JOIN refund_lines x ON x.tenant_id = @tenant AND x.refund_id = r.id
          LEFT JOIN order_lines l ON l.tenant_id = @tenant AND l.id = x.line_item_id
          WHERE NOT coalesce(l.is_gift_card, false)
          GROUP BY r.day),
        days AS (SELECT d::date AS day FROM generate_series(@from::date, @to::date, interval '1 day') d)
        SELECT days.day, coalesce(od.orders, 0), coalesce(ol.gross, 0), coalesce(ol.discounts, 0), coalesce(rl.returns, 0),
               coalesce(od.shipping, 0) - coalesce(rd.shipping, 0),
               coalesce(od.tax, 0) - coalesce(rl.tax, 0) - coalesce(rd.tax, 0)
        FROM days LEFT JOIN od USING (day) LEFT JOIN ol USING (day) LEFT JOIN rd USING (day) LEFT JOIN rl USING (day)
        ORDER BY days.day
        """;

    /// <summary>One row per date of the range, zeros included: cost grows with the days asked, the
    /// orders read are those of the range only (index on tenant and processed_at).</summary>
    public static Task<List<Day>> QueryAsync(XenoDb db, MetricsRange range, CancellationToken ct) =>
        MetricsSql.QueryAsync(db, range, Sql, r => new Day(
            r.GetFieldValue<DateOnly>(0), (int)r.GetInt64(1), r.GetDecimal(2), r.GetDecimal(3), r.GetDecimal(4), r.GetDecimal(5), r.GetDecimal(6)),
            ct: ct);

    public static async Task<IResult> HandleApiAsync(HttpRequest request, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var (range, error) = await MetricsRange.ParseAsync(request, db, tenant, clock);
        if (range is null) return error!;
        var days = await QueryAsync(db, range, ct);
        return TypedResults.Ok(new Response(range.Currency, days.Select(d => new DayResponse(d.Date, d.Orders,
            Money.Round(d.GrossSales), Money.Round(d.Discounts), Money.Round(d.Returns), Money.Round(d.NetSales), Money.Round(d.TotalSales))).ToList()));
    }
}
