using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetSegments
{
    public sealed record Segment(string Name, int Customers, decimal NetSales);
    public sealed record RfmGroup(string Group, int Customers);
    public sealed record Response(DateOnly AsOf, IReadOnlyList<Segment> Segments, int Prospects, IReadOnlyList<RfmGroup> Rfm);

    // Lifetime net sales up to asOf per customer with a counted order up to asOf, and their first order's local date.
    private const string CustomersSql = """
        WITH asof AS (SELECT (@to::date + 1)::timestamp AT TIME ZONE @tz AS hi),
        co AS (
          SELECT o.id, o.customer_id, o.processed_at FROM orders o, asof
          WHERE o.tenant_id = @tenant AND NOT o.test AND o.deleted_at IS NULL AND o.customer_id IS NOT NULL AND o.processed_at < asof.hi),
        sales AS (
          SELECT co.customer_id, sum(l.original_unit_price * l.quantity - l.discount_allocated) AS net
          FROM co JOIN order_lines l ON l.tenant_id = @tenant AND l.order_id = co.id AND NOT l.is_gift_card
          GROUP BY co.customer_id),
        ret AS (
          SELECT co.customer_id, sum(rl.subtotal) AS returns
          FROM co JOIN refunds r ON r.tenant_id = @tenant AND r.order_id = co.id
          JOIN refund_lines rl ON rl.tenant_id = @tenant AND rl.refund_id = r.id
          LEFT JOIN order_lines l ON l.tenant_id = @tenant AND l.id = rl.line_item_id, asof
          WHERE r.created_at < asof.hi AND NOT coalesce(l.is_gift_card, false)
          GROUP BY co.customer_id),
        firsts AS (SELECT customer_id, min(processed_at) AS first_at FROM co GROUP BY customer_id)
        SELECT f.customer_id, (f.first_at AT TIME ZONE @tz)::date, coalesce(s.net, 0) - coalesce(ret.returns, 0)
        FROM firsts f LEFT JOIN sales s USING (customer_id) LEFT JOIN ret USING (customer_id)
        """;

    // Customers created on or before asOf (local) with no counted order up to asOf.
    private const string ProspectsSql = """
        SELECT count(*) FROM customers c
        WHERE c.tenant_id = @tenant AND c.deleted_at IS NULL AND c.created_at IS NOT NULL
          AND (c.created_at AT TIME ZONE @tz)::date <= @to::date
          AND NOT EXISTS (
            SELECT 1 FROM orders o
            WHERE o.tenant_id = @tenant AND o.customer_id = c.id AND NOT o.test AND o.deleted_at IS NULL
              AND o.processed_at < (@to::date + 1)::timestamp AT TIME ZONE @tz)
        """;

    private const string RfmSql = """
        SELECT rfm_group, count(*) FROM customers
        WHERE tenant_id = @tenant AND deleted_at IS NULL AND rfm_group IS NOT NULL
        GROUP BY rfm_group ORDER BY rfm_group
        """;

    public static async Task<IResult> HandleApiAsync(HttpRequest request, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        if (!MetricsRange.TryDate(request.Query["asOf"], MetricsRange.Today(store.Timezone, clock), out var asOf))
            return MetricsRange.Bad("asOf must be a date as yyyy-MM-dd.");
        return TypedResults.Ok(await QueryAsync(db, new MetricsRange(store.Id, store.Currency, store.Timezone, asOf, asOf), ct));
    }

    public static async Task<Response> QueryAsync(XenoDb db, MetricsRange asOfRange, CancellationToken ct)
    {
        var asOf = asOfRange.To;
        var customers = await MetricsSql.QueryAsync(db, asOfRange, CustomersSql,
            r => (Id: r.GetInt64(0), First: r.GetFieldValue<DateOnly>(1), Net: r.GetDecimal(2)), ct: ct);

        // VIP threshold: the 90th percentile of lifetime net sales by nearest rank, over every customer with an order.
        var sorted = customers.Select(c => c.Net).Order().ToList();
        var threshold = sorted.Count == 0 ? 0 : sorted[(int)Math.Ceiling(0.9 * sorted.Count) - 1];
        var newSince = asOf.AddDays(-29);
        string SegmentOf((long Id, DateOnly First, decimal Net) c) =>
            c.First >= newSince ? "New" : c.Net >= threshold ? "VIP" : "Regular";
        var segments = new[] { "VIP", "Regular", "New" }
            .Select(name =>
            {
                var members = customers.Where(c => SegmentOf(c) == name).ToList();
                return new Segment(name, members.Count, Money.Round(members.Sum(m => m.Net)));
            }).ToList();

        var prospects = (await MetricsSql.QueryAsync(db, asOfRange, ProspectsSql, r => (int)r.GetInt64(0), ct: ct)).Single();
        var rfm = await MetricsSql.QueryAsync(db, asOfRange, RfmSql, r => new RfmGroup(r.GetString(0), (int)r.GetInt64(1)), ct: ct);
        return new Response(asOf, segments, prospects, rfm);
    }
}
