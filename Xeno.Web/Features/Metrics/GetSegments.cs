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

    // As of the last day with data (today, on the dashboard), from the aggregates. The VIP threshold is the net at
    // rank "above" (0-based, from the top) of the n customers with an order: the buckets of customer_nets, summed from
    // the top, say which bucket holds that rank, how many customers and how much net lie above it, and how far into it
    // the rank is; the bucket's ceiling is the floor of the next bucket up (none for the top one).
    private const string BucketSql = """
        WITH t AS (SELECT coalesce(sum(customers), 0) AS n, coalesce(sum(net), 0) AS net FROM customer_nets WHERE tenant_id = @tenant),
        b AS (
          SELECT lo, customers, net, sum(customers) OVER w AS cum, sum(net) OVER w AS cum_net, lag(lo) OVER w AS hi
          FROM customer_nets WHERE tenant_id = @tenant WINDOW w AS (ORDER BY lo DESC))
        SELECT t.n, t.net, x.hi, coalesce(x.above, 0), coalesce(x.above_net, 0), coalesce(x.within, 0),
               (SELECT coalesce(sum(customers_created - prospects_converted), 0) FROM daily_metrics WHERE tenant_id = @tenant AND day <= @to),
               coalesce(x.lo, 0)
        FROM t LEFT JOIN LATERAL (
          SELECT b.lo, b.hi, b.cum - b.customers AS above, b.cum_net - b.net AS above_net,
                 (t.n - ceil(0.9 * t.n))::bigint - (b.cum - b.customers) AS within
          FROM b WHERE b.cum > (t.n - ceil(0.9 * t.n)) ORDER BY b.lo DESC LIMIT 1) x ON true
        """;

    // Inside the threshold's bucket only (a few hundred customers): the threshold itself, and the customers at or above
    // it there (its ties included: they are VIPs too). The bucket holds the nets from its floor (every net, for bucket 0)
    // up to the next bucket's floor, read as one range of ix_customer_stats_net_key (migration CustomerNetKey says why
    // not of the nets). New customers, first seen in the 30 days up to asOf, come from those days' buckets; those of them
    // at or above the threshold (whom VIP leaves out) are the ones in higher buckets, plus the few of the threshold's own
    // bucket at or above it.
    private const string ThresholdSql = """
        WITH bucket AS MATERIALIZED (
          SELECT net, first_day FROM customer_stats WHERE tenant_id = @tenant AND net_key >= @lo_key AND net_key < @hi_key),
        th AS (SELECT net FROM bucket ORDER BY net DESC OFFSET @within LIMIT 1),
        top AS (SELECT b.net, b.first_day FROM bucket b, th WHERE b.net >= th.net),
        fresh AS (
          SELECT lo, customers, net FROM customer_first_day_nets
          WHERE tenant_id = @tenant AND first_day BETWEEN @to::date - 29 AND @to)
        SELECT (SELECT count(*) FROM top), (SELECT coalesce(sum(net), 0) FROM top),
               (SELECT coalesce(sum(customers), 0) FROM fresh), (SELECT coalesce(sum(net), 0) FROM fresh),
               (SELECT coalesce(sum(customers), 0) FROM fresh WHERE lo > @lo)
                 + (SELECT count(*) FROM top WHERE first_day BETWEEN @to::date - 29 AND @to),
               (SELECT coalesce(sum(net), 0) FROM fresh WHERE lo > @lo)
                 + (SELECT coalesce(sum(net), 0) FROM top WHERE first_day BETWEEN @to::date - 29 AND @to)
        """;

    public static async Task<Response> QueryAsync(XenoDb db, MetricsRange asOfRange, CancellationToken ct)
    {
        if ((await MetricsSql.QueryAsync(db, asOfRange, LaterDataSql, r => r.GetBoolean(0), ct: ct)).Single())
            return await AsOfPastAsync(db, asOfRange, ct);

        var bucket = (await MetricsSql.QueryAsync(db, asOfRange, BucketSql,
            r => (All: r.GetInt64(0), AllNet: r.GetDecimal(1), Hi: r.IsDBNull(2) ? (decimal?)null : r.GetDecimal(2), Above: r.GetInt64(3),
                  AboveNet: r.GetDecimal(4), Within: r.GetInt64(5), Prospects: r.GetInt64(6), Lo: r.GetDecimal(7)), ct: ct)).Single();
        long vip = 0, fresh = 0;
        decimal vipNet = 0, freshNet = 0;
        if (bucket.All > 0)
        {
            var (inBucket, inBucketNet, freshN, freshNetSum, freshTop, freshTopNet) = (await MetricsSql.QueryAsync(db, asOfRange, ThresholdSql,
                r => (r.GetInt64(0), r.GetDecimal(1), r.GetInt64(2), r.GetDecimal(3), r.GetInt64(4), r.GetDecimal(5)), c =>
                {
                    c.Parameters.Add(new Npgsql.NpgsqlParameter("lo", NpgsqlTypes.NpgsqlDbType.Numeric) { Value = bucket.Lo });
                    c.Parameters.AddWithValue("lo_key", bucket.Lo > 0 ? (long)(bucket.Lo * 1000) : long.MinValue);
                    c.Parameters.AddWithValue("hi_key", bucket.Hi is { } hi ? (long)(hi * 1000) : long.MaxValue);
                    c.Parameters.AddWithValue("within", bucket.Within);
                }, ct)).Single();
            (fresh, freshNet) = (freshN, freshNetSum);
            (vip, vipNet) = (bucket.Above + inBucket - freshTop, bucket.AboveNet + inBucketNet - freshTopNet);
        }
        var (all, allNet) = (bucket.All, bucket.AllNet);
        var segments = new List<Segment>
        {
            new("VIP", (int)vip, Money.Round(vipNet)),
            new("Regular", (int)(all - vip - fresh), Money.Round(allNet - vipNet - freshNet)),
            new("New", (int)fresh, Money.Round(freshNet)),
        };
        var rfm = await MetricsSql.QueryAsync(db, asOfRange, RfmSql, r => new RfmGroup(r.GetString(0), r.GetInt32(1)), ct: ct);
        return new Response(asOfRange.To, segments, (int)bucket.Prospects, rfm);
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
