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

    // Kept as customers land (ShopAggregates): Shopify's groups as they stand now.
    private const string RfmSql = """
        SELECT rfm_group, customers FROM customer_groups WHERE tenant_id = @tenant ORDER BY rfm_group
        """;

    public static async Task<IResult> HandleApiAsync([AsParameters] AsOfQuery query, HttpRequest request, XenoDb db, TenantContext tenant,
        TimeProvider clock, CancellationToken ct)
    {
        if (!MetricsFormat.TryCsv(query.Format, request, out var csv)) return MetricsFormat.Bad;
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        var today = MetricsRange.Today(store.Timezone, clock);
        if (!MetricsRange.TryDate(query.AsOf, today, out var asOf))
            return MetricsRange.Bad("asOf must be a date as yyyy-MM-dd.");
        if (!MetricsRange.InWindow(asOf, today)) return MetricsRange.Bad(MetricsRange.WindowMessage(today));
        var body = await QueryAsync(db, MetricsRange.For(store, asOf, asOf), ct);
        return csv ? Csv(body, store.ShopDomain) : TypedResults.Ok(body);
    }

    /// <summary>One row per segment, then one for the prospects and one per RFM group: the <c>kind</c> column says which,
    /// and netSales is empty where the JSON has none.</summary>
    private static MetricsCsv Csv(Response body, string shopDomain)
    {
        var csv = new MetricsCsv(MetricsCsv.FileName(shopDomain, "segments", $"{body.AsOf:yyyy-MM-dd}"),
            ["asOf", "kind", "name", "customers", "netSales"]);
        foreach (var s in body.Segments) csv.Row(body.AsOf, "segment", s.Name, s.Customers, s.NetSales);
        csv.Row(body.AsOf, "prospects", null, body.Prospects, null);
        foreach (var g in body.Rfm) csv.Row(body.AsOf, "rfm", g.Group, g.Customers, null);
        return csv;
    }

    // Whether any order or refund is dated after asOf (local): when none is, every customer's history up to asOf is
    // their whole history, which the aggregates keep.
    private const string LaterDataSql = """
        SELECT EXISTS (SELECT 1 FROM orders WHERE tenant_id = @tenant AND processed_at >= (@to::date + 1)::timestamp AT TIME ZONE @tz)
            OR EXISTS (SELECT 1 FROM refunds WHERE tenant_id = @tenant AND created_at >= (@to::date + 1)::timestamp AT TIME ZONE @tz)
        """;

    // As of the last day with data (today, on the dashboard), from the aggregates: the counts and nets of all customers
    // with an order come from the days, and the VIP threshold is read off the index on lifetime net (the top tenth
    // only), with the number of customers at exactly that value (their ties are VIPs too).
    private const string TotalsSql = """
        WITH totals AS (
          SELECT coalesce(sum(new_customers), 0) AS n, coalesce(sum(customer_sales - customer_returns), 0) AS net,
                 coalesce(sum(customers_created - prospects_converted), 0) AS prospects
          FROM daily_metrics WHERE tenant_id = @tenant AND day <= @to),
        threshold AS (
          SELECT (totals.n - ceil(0.9 * totals.n))::bigint AS above,
                 (SELECT net FROM customer_stats WHERE tenant_id = @tenant ORDER BY net DESC
                  OFFSET (totals.n - ceil(0.9 * totals.n))::bigint LIMIT 1) AS value
          FROM totals)
        SELECT totals.n, totals.net, totals.prospects, threshold.value,
               threshold.above + (SELECT count(*) FROM customer_stats WHERE tenant_id = @tenant AND net = threshold.value)
        FROM totals, threshold
        """;

    // New and VIP are the few customers first seen in the last 30 days or at or above the threshold: each read in one
    // pass over its index. At most "above + ties" customers reach the threshold; the LIMIT says so to the planner, which
    // then walks the index instead of the table.
    private const string FewSql = """
        SELECT f.n, f.net, v.n, v.net
        FROM (SELECT count(*) AS n, coalesce(sum(net), 0) AS net FROM customer_stats
              WHERE tenant_id = @tenant AND first_day BETWEEN @to::date - 29 AND @to) f,
             (SELECT count(*) AS n, coalesce(sum(net), 0) AS net FROM (
                SELECT net, first_day FROM customer_stats WHERE tenant_id = @tenant AND net >= @threshold
                ORDER BY net DESC LIMIT @reach) top
              WHERE first_day < @to::date - 29) v
        """;

    public static async Task<Response> QueryAsync(XenoDb db, MetricsRange asOfRange, CancellationToken ct)
    {
        if ((await MetricsSql.QueryAsync(db, asOfRange, LaterDataSql, r => r.GetBoolean(0), ct: ct)).Single())
            return await AsOfPastAsync(db, asOfRange, ct);

        var (all, allNet, prospects, threshold, reach) = (await MetricsSql.QueryAsync(db, asOfRange, TotalsSql,
            r => (r.GetInt64(0), r.GetDecimal(1), r.GetInt64(2), r.IsDBNull(3) ? (decimal?)null : r.GetDecimal(3), r.IsDBNull(4) ? 0L : r.GetInt64(4)), ct: ct)).Single();
        var (fresh, freshNet, vip, vipNet) = (await MetricsSql.QueryAsync(db, asOfRange, FewSql,
            r => (r.GetInt64(0), r.GetDecimal(1), r.GetInt64(2), r.GetDecimal(3)), c =>
            {
                c.Parameters.Add(new Npgsql.NpgsqlParameter("threshold", NpgsqlTypes.NpgsqlDbType.Numeric) { Value = (object?)threshold ?? DBNull.Value });
                c.Parameters.AddWithValue("reach", reach);
            }, ct)).Single();
        var segments = new List<Segment>
        {
            new("VIP", (int)vip, Money.Round(vipNet)),
            new("Regular", (int)(all - vip - fresh), Money.Round(allNet - vipNet - freshNet)),
            new("New", (int)fresh, Money.Round(freshNet)),
        };
        var rfm = await MetricsSql.QueryAsync(db, asOfRange, RfmSql, r => new RfmGroup(r.GetString(0), r.GetInt32(1)), ct: ct);
        return new Response(asOfRange.To, segments, (int)prospects, rfm);
    }

    /// <summary>As of a day with later data after it: each customer's history up to then, read from the orders.
    /// REVIEW: this reads the whole history up to asOf; the dashboard asks only as of today, which the aggregates answer.</summary>
    private static async Task<Response> AsOfPastAsync(XenoDb db, MetricsRange asOfRange, CancellationToken ct)
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
        var rfm = await MetricsSql.QueryAsync(db, asOfRange, RfmSql, r => new RfmGroup(r.GetString(0), r.GetInt32(1)), ct: ct);
        return new Response(asOf, segments, prospects, rfm);
    }
}
