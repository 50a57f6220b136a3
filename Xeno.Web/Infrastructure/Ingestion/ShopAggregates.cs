using Npgsql;
using NpgsqlTypes;

namespace Xeno.Web.Infrastructure.Ingestion;

/// <summary>
/// Keeps what the dashboards read, so that no request re-reads a store's history: figures per local day
/// (<c>daily_metrics</c>), per product and day, per customer and day, per customer over their whole history
/// (<c>customer_stats</c>, with the days of their orders), customers counted by lifetime net (<c>customer_nets</c>, and
/// by first day too),
/// the pairs of each customer's consecutive orders (<c>customer_pairs</c>), and the RFM group counts.
/// </summary>
/// <remarks>
/// Maintained in the transaction that writes the data, by recomputing from the stored rows exactly what a write
/// touched: the affected days (from every old and new instant) and the affected customers (their whole history, which
/// is short). Recomputing rather than adding deltas means an aggregate can never drift from the rows; the exceptions
/// are <c>customer_pairs</c> and <c>customer_nets</c>, which sum over customers and are updated by the difference
/// between a customer's old and new order days and lifetime net. A per-store advisory lock taken after the data is
/// written serializes refreshes, so that two transactions never compute a day from each other's half-visible rows.
///
/// Distinct customers over a range come from pairs: the customers with an order in [lo, hi] are the orders in it
/// (with a customer) minus the consecutive-order pairs lying wholly in it, since each customer's orders in a range are
/// consecutive in their history. Pairs are counted at day and month resolution (day/day, day/month, month/day,
/// month/month), so that any range is answered from a bounded number of cells: months inside it, days at its ends.
/// </remarks>
public static class ShopAggregates
{
    public const short KindConsecutive = 1;
    public const short KindFirstSecond = 2;
    public const short DayDay = 0, DayMonth = 1, MonthDay = 2, MonthMonth = 3;

    /// <summary>The trailing windows whose top customers are kept ranked (customer_windows), in days ending on the
    /// store's local today.</summary>
    public static readonly short[] WindowDays = [7, 30, 90, 365];

    /// <summary>Day numbers in the pairs table count from here.</summary>
    public static readonly DateOnly Epoch = new(1970, 1, 1);

    public static int DayNumber(DateOnly day) => day.DayNumber - Epoch.DayNumber;
    public static int MonthNumber(DateOnly day) => day.Year * 12 + day.Month - 1;
    private static int MonthOfDayNumber(int day) => MonthNumber(DateOnly.FromDayNumber(Epoch.DayNumber + day));

    /// <summary>Brings the aggregates up to date with what <paramref name="affected"/> names, inside the caller's
    /// transaction. A store whose aggregates were never built (or were built for another time zone) is rebuilt whole.</summary>
    public static async Task RefreshAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenant, AffectedData affected, CancellationToken ct)
    {
        var sql = new Sql(connection, transaction, tenant);
        // The day's recompute sorts and hashes a busy day's orders and lines (a flash sale's thousands): with PostgreSQL's
        // default 4 MB it spilled to temporary files, which the benchmark saw as most of a webhook batch's time.
        await sql.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended('xeno-aggregates:' || @tenant::text, 0)); SET LOCAL work_mem = '64MB'", ct);
        var (timezone, builtFor) = await sql.StateAsync(ct);
        if (timezone is null) return; // the store is gone (shop/redact in this transaction)
        if (affected.Everything || builtFor != timezone)
        {
            await RebuildLockedAsync(sql, timezone, ct);
            return;
        }

        var days = new HashSet<DateOnly>(affected.Instants.Select(i => LocalDay(i, timezone)));
        if (affected.Customers.Count > 0)
        {
            var customers = affected.Customers.ToArray();
            foreach (var day in await RefreshCustomersAsync(sql, timezone, customers, ct))
                days.Add(day);
            await RollWindowsLockedAsync(sql, timezone, ct);
            await sql.ExecuteAsync(WindowsSql(all: false), ct, ("c", customers, NpgsqlDbType.Array | NpgsqlDbType.Bigint));
        }
        if (days.Count > 0)
        {
            var dayArray = days.ToArray();
            await sql.ExecuteAsync(DailySql, ct, ("tz", timezone, NpgsqlDbType.Text), ("days", dayArray, NpgsqlDbType.Array | NpgsqlDbType.Date));
            await sql.ExecuteAsync(ProductDailySql, ct, ("tz", timezone, NpgsqlDbType.Text), ("days", dayArray, NpgsqlDbType.Array | NpgsqlDbType.Date));
        }
        if (affected.GroupDeltas.Any(d => d.Value != 0))
        {
            var deltas = affected.GroupDeltas.Where(d => d.Value != 0).ToList();
            await sql.ExecuteAsync("""
                INSERT INTO customer_groups AS g (tenant_id, rfm_group, customers) SELECT @tenant, * FROM unnest(@groups, @deltas)
                ON CONFLICT (tenant_id, rfm_group) DO UPDATE SET customers = g.customers + excluded.customers;
                DELETE FROM customer_groups WHERE tenant_id = @tenant AND customers = 0;
                """, ct, ("groups", deltas.Select(d => d.Key).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text),
                ("deltas", deltas.Select(d => d.Value).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer));
        }
    }

    /// <summary>Every aggregate of the store from its rows, in the caller's transaction (after a bulk backfill, a time
    /// zone change, or for a store that has none yet).</summary>
    public static async Task RebuildAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenant, CancellationToken ct)
    {
        var sql = new Sql(connection, transaction, tenant);
        await sql.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended('xeno-aggregates:' || @tenant::text, 0))", ct);
        var (timezone, _) = await sql.StateAsync(ct);
        if (timezone is not null) await RebuildLockedAsync(sql, timezone, ct);
    }

    private static async Task RebuildLockedAsync(Sql sql, string timezone, CancellationToken ct)
    {
        var tz = ("tz", (object)timezone, NpgsqlDbType.Text);
        // A pass over a store's whole history is a job's work, bound by nothing but the history's size: neither the
        // client's command timeout nor the session's statement timeout (lifted in the first statement) applies.
        foreach (var statement in RebuildStatements) await sql.ExecuteAsync(statement, ct, unbounded: true, tz);
    }

    /// <summary>
    /// The whole store in a few passes: every counted order once with its sales (<c>rebuild_orders</c>) and every refund
    /// of one once with its returns (<c>rebuild_refunds</c>), as temporary tables, then each aggregate grouped from them.
    /// The same definitions as the refresh statements below, written for all rows at once instead of a few days or
    /// customers (AggregateTests holds the two equal).
    /// </summary>
    private static readonly string[] RebuildStatements =
    [
        """
        SET LOCAL statement_timeout = 0;
        DELETE FROM customer_daily WHERE tenant_id = @tenant;
        DELETE FROM customer_stats WHERE tenant_id = @tenant;
        DELETE FROM customer_nets WHERE tenant_id = @tenant;
        DELETE FROM customer_first_day_nets WHERE tenant_id = @tenant;
        DELETE FROM customer_pairs WHERE tenant_id = @tenant;
        DELETE FROM customer_windows WHERE tenant_id = @tenant;
        DELETE FROM customer_groups WHERE tenant_id = @tenant;
        DELETE FROM daily_metrics WHERE tenant_id = @tenant;
        DELETE FROM product_daily WHERE tenant_id = @tenant;
        DROP TABLE IF EXISTS rebuild_orders, rebuild_refunds;
        CREATE TEMP TABLE rebuild_orders ON COMMIT DROP AS
        SELECT o.id, o.customer_id, o.processed_at, (o.processed_at AT TIME ZONE @tz)::date AS day, o.shipping_price, o.total_tax,
               coalesce(l.gross, 0) AS gross, coalesce(l.discounts, 0) AS discounts
        FROM orders o
        LEFT JOIN (
          SELECT order_id, sum(original_unit_price * quantity) AS gross, sum(discount_allocated) AS discounts
          FROM order_lines WHERE tenant_id = @tenant AND NOT is_gift_card GROUP BY order_id) l ON l.order_id = o.id
        WHERE o.tenant_id = @tenant AND NOT o.test AND o.deleted_at IS NULL;
        ANALYZE rebuild_orders;
        CREATE TEMP TABLE rebuild_refunds ON COMMIT DROP AS
        SELECT r.id, o.customer_id, (r.created_at AT TIME ZONE @tz)::date AS day, r.shipping_refunded, r.shipping_tax_refunded,
               coalesce(x.returns, 0) AS returns, coalesce(x.tax, 0) AS tax, x.refund_id IS NOT NULL AS has_lines
        FROM refunds r JOIN rebuild_orders o ON o.id = r.order_id
        LEFT JOIN (
          SELECT rl.refund_id, sum(rl.subtotal) AS returns, sum(rl.total_tax) AS tax
          FROM refund_lines rl LEFT JOIN order_lines l ON l.tenant_id = @tenant AND l.id = rl.line_item_id
          WHERE rl.tenant_id = @tenant AND NOT coalesce(l.is_gift_card, false) GROUP BY rl.refund_id) x ON x.refund_id = r.id
        WHERE r.tenant_id = @tenant;
        ANALYZE rebuild_refunds;
        """,
        """
        INSERT INTO customer_daily (tenant_id, customer_id, day, orders, sales, returns)
        SELECT @tenant, coalesce(s.customer_id, r.customer_id), coalesce(s.day, r.day), coalesce(s.orders, 0), coalesce(s.sales, 0), coalesce(r.returns, 0)
        FROM (SELECT customer_id, day, count(*) AS orders, sum(gross - discounts) AS sales FROM rebuild_orders
              WHERE customer_id IS NOT NULL GROUP BY customer_id, day) s
        FULL JOIN (SELECT customer_id, day, sum(returns) AS returns FROM rebuild_refunds
                   WHERE customer_id IS NOT NULL AND has_lines GROUP BY customer_id, day) r ON r.customer_id = s.customer_id AND r.day = s.day
        """,
        """
        INSERT INTO customer_stats (tenant_id, customer_id, first_order_at, first_day, orders, net, days)
        SELECT @tenant, o.customer_id, o.first_at, (o.first_at AT TIME ZONE @tz)::date, o.orders, o.sales - coalesce(r.returns, 0), o.days
        FROM (SELECT customer_id, min(processed_at) AS first_at, count(*) AS orders, sum(gross - discounts) AS sales,
                     array_agg(day - date '1970-01-01' ORDER BY processed_at, id) AS days
              FROM rebuild_orders WHERE customer_id IS NOT NULL GROUP BY customer_id) o
        LEFT JOIN (SELECT customer_id, sum(returns) AS returns FROM rebuild_refunds WHERE customer_id IS NOT NULL GROUP BY customer_id) r
          ON r.customer_id = o.customer_id
        """,
        """
        INSERT INTO customer_nets (tenant_id, lo, customers, net)
        SELECT @tenant, xeno_net_floor(net), count(*), sum(net) FROM customer_stats WHERE tenant_id = @tenant GROUP BY 2;
        INSERT INTO customer_first_day_nets (tenant_id, first_day, lo, customers, net)
        SELECT @tenant, first_day, xeno_net_floor(net), count(*), sum(net) FROM customer_stats WHERE tenant_id = @tenant GROUP BY 2, 3
        """,
        $"""
        INSERT INTO customer_pairs (tenant_id, kind, res, p, d, n)
        WITH seq AS (
          SELECT day, lag(day) OVER w AS prev, row_number() OVER w AS n
          FROM rebuild_orders WHERE customer_id IS NOT NULL
          WINDOW w AS (PARTITION BY customer_id ORDER BY processed_at, id)),
        pairs AS (
          SELECT {KindConsecutive}::smallint AS kind, prev AS p, day AS d FROM seq WHERE n >= 2
          UNION ALL SELECT {KindFirstSecond}::smallint, prev, day FROM seq WHERE n = 2),
        cells AS (
          SELECT kind, {DayDay}::smallint AS res, p - date '1970-01-01' AS p, d - date '1970-01-01' AS d FROM pairs
          UNION ALL SELECT kind, {DayMonth}::smallint, p - date '1970-01-01', {string.Format(MonthOf, "d")} FROM pairs
          UNION ALL SELECT kind, {MonthDay}::smallint, {string.Format(MonthOf, "p")}, d - date '1970-01-01' FROM pairs
          UNION ALL SELECT kind, {MonthMonth}::smallint, {string.Format(MonthOf, "p")}, {string.Format(MonthOf, "d")} FROM pairs)
        SELECT @tenant, kind, res, p, d, count(*) FROM cells GROUP BY kind, res, p, d
        """,
        """
        INSERT INTO customer_groups (tenant_id, rfm_group, customers)
        SELECT @tenant, rfm_group, count(*) FROM customers
        WHERE tenant_id = @tenant AND deleted_at IS NULL AND rfm_group IS NOT NULL GROUP BY rfm_group
        """,
        """
        INSERT INTO daily_metrics (tenant_id, day, orders, gross, discounts, shipping, taxes, returns, refunded_shipping, refunded_taxes,
          customer_orders, customer_sales, customer_returns, new_customers, abandoned_checkouts, abandoned_value, customers_created, prospects_converted)
        WITH od AS (
          SELECT day, count(*) AS orders, sum(gross) AS gross, sum(discounts) AS discounts, sum(shipping_price) AS shipping, sum(total_tax) AS taxes,
                 count(customer_id) AS customer_orders, coalesce(sum(gross - discounts) FILTER (WHERE customer_id IS NOT NULL), 0) AS customer_sales
          FROM rebuild_orders GROUP BY day),
        rd AS (
          SELECT day, sum(returns) AS returns, sum(shipping_refunded) AS shipping, sum(tax + shipping_tax_refunded) AS tax,
                 coalesce(sum(returns) FILTER (WHERE customer_id IS NOT NULL), 0) AS customer_returns
          FROM rebuild_refunds GROUP BY day),
        nc AS (SELECT first_day AS day, count(*) AS n FROM customer_stats WHERE tenant_id = @tenant GROUP BY first_day),
        ab AS (
          SELECT (c.created_at AT TIME ZONE @tz)::date AS day, count(*) AS n, sum(c.total_price) AS v
          FROM checkouts c
          WHERE c.tenant_id = @tenant AND c.completed_at IS NULL AND c.deleted_at IS NULL
            AND NOT (c.token IS NOT NULL AND c.token IN (
              SELECT checkout_token FROM orders WHERE tenant_id = @tenant AND checkout_token IS NOT NULL AND deleted_at IS NULL))
          GROUP BY 1),
        cc AS (
          SELECT (created_at AT TIME ZONE @tz)::date AS day, count(*) AS n FROM customers
          WHERE tenant_id = @tenant AND deleted_at IS NULL AND created_at IS NOT NULL GROUP BY 1),
        pc AS (
          SELECT greatest((c.created_at AT TIME ZONE @tz)::date, s.first_day) AS day, count(*) AS n
          FROM customers c JOIN customer_stats s ON s.tenant_id = @tenant AND s.customer_id = c.id
          WHERE c.tenant_id = @tenant AND c.deleted_at IS NULL AND c.created_at IS NOT NULL GROUP BY 1),
        d AS (SELECT day FROM od UNION SELECT day FROM rd UNION SELECT day FROM nc UNION SELECT day FROM ab UNION SELECT day FROM cc UNION SELECT day FROM pc)
        SELECT @tenant, d.day, coalesce(od.orders, 0), coalesce(od.gross, 0), coalesce(od.discounts, 0),
               coalesce(od.shipping, 0), coalesce(od.taxes, 0), coalesce(rd.returns, 0), coalesce(rd.shipping, 0),
               coalesce(rd.tax, 0), coalesce(od.customer_orders, 0), coalesce(od.customer_sales, 0), coalesce(rd.customer_returns, 0),
               coalesce(nc.n, 0), coalesce(ab.n, 0), coalesce(ab.v, 0), coalesce(cc.n, 0), coalesce(pc.n, 0)
        FROM d LEFT JOIN od USING (day) LEFT JOIN rd USING (day) LEFT JOIN nc USING (day)
          LEFT JOIN ab USING (day) LEFT JOIN cc USING (day) LEFT JOIN pc USING (day)
        """,
        """
        INSERT INTO product_daily (tenant_id, day, product_key, units_sold, units_returned, gross, discounts, returns, title, returned_title)
        WITH sold AS (
          SELECT o.day, coalesce(l.product_id, 0) AS k, sum(l.quantity) AS units, sum(l.original_unit_price * l.quantity) AS gross,
                 sum(l.discount_allocated) AS discounts, max(l.title) AS title
          FROM rebuild_orders o JOIN order_lines l ON l.tenant_id = @tenant AND l.order_id = o.id AND NOT l.is_gift_card
          GROUP BY 1, 2),
        ret AS (
          SELECT r.day, coalesce(l.product_id, 0) AS k, sum(rl.quantity) AS units, sum(rl.subtotal) AS returns, max(l.title) AS title
          FROM rebuild_refunds r JOIN refund_lines rl ON rl.tenant_id = @tenant AND rl.refund_id = r.id
          JOIN order_lines l ON l.tenant_id = @tenant AND l.id = rl.line_item_id AND NOT l.is_gift_card
          GROUP BY 1, 2)
        SELECT @tenant, coalesce(s.day, r.day), coalesce(s.k, r.k), coalesce(s.units, 0), coalesce(r.units, 0),
               coalesce(s.gross, 0), coalesce(s.discounts, 0), coalesce(r.returns, 0), s.title, r.title
        FROM sold s FULL JOIN ret r ON r.day = s.day AND r.k = s.k
        """,
        "UPDATE stores SET aggregates_timezone = @tz, windows_day = (now() AT TIME ZONE @tz)::date WHERE id = @tenant",
        WindowsSql(all: true),
    ];

    /// <summary>Moves the store's ranked windows on to its local today, inside the caller's transaction (a dashboard
    /// asking on a new day, or the minutely job). Nothing to do when they are current.</summary>
    public static async Task RollWindowsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenant, CancellationToken ct)
    {
        var sql = new Sql(connection, transaction, tenant);
        await sql.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended('xeno-aggregates:' || @tenant::text, 0))", ct);
        var (timezone, builtFor) = await sql.StateAsync(ct);
        if (timezone is not null && builtFor == timezone) await RollWindowsLockedAsync(sql, timezone, ct);
    }

    /// <summary>
    /// When the local day has moved on since the windows were ranked, the customers whose windows change are those with
    /// days entering (after the old end) or leaving (each window's old start): they are ranked again, and the windows
    /// end today. After a long pause, all of them are.
    /// </summary>
    private static async Task RollWindowsLockedAsync(Sql sql, string timezone, CancellationToken ct)
    {
        DateOnly? end = null;
        var today = default(DateOnly);
        await sql.ReadAsync("SELECT windows_day, (now() AT TIME ZONE @tz)::date FROM stores WHERE id = @tenant", r =>
        {
            end = r.IsDBNull(0) ? null : r.GetFieldValue<DateOnly>(0);
            today = r.GetFieldValue<DateOnly>(1);
        }, ct, ("tz", timezone, NpgsqlDbType.Text));
        if (end == today) return;
        var moved = end is { } from && today > from && today.DayNumber - from.DayNumber <= 31;
        await sql.ExecuteAsync("UPDATE stores SET windows_day = @today WHERE id = @tenant", ct, ("today", today, NpgsqlDbType.Date));
        if (!moved)
        {
            await sql.ExecuteAsync("DELETE FROM customer_windows WHERE tenant_id = @tenant", ct);
            await sql.ExecuteAsync(WindowsSql(all: true), ct);
            return;
        }
        var changes = string.Join(" OR ", WindowDays.Select(w => $"(day > @old - {w} AND day <= @new - {w})").Prepend("(day > @old AND day <= @new)"));
        await sql.ExecuteAsync($"""
            CREATE TEMP TABLE IF NOT EXISTS window_customers (customer_id bigint PRIMARY KEY) ON COMMIT DROP;
            TRUNCATE window_customers;
            INSERT INTO window_customers SELECT DISTINCT customer_id FROM customer_daily WHERE tenant_id = @tenant AND ({changes});
            """, ct, ("old", end!.Value, NpgsqlDbType.Date), ("new", today, NpgsqlDbType.Date));
        await sql.ExecuteAsync(WindowsSql(all: false).Replace("ANY(@c)", "ANY(ARRAY(SELECT customer_id FROM window_customers))"), ct);
    }

    /// <summary>The ranked windows of the customers concerned (or all), from customer_daily, ending on windows_day.
    /// Only customers with an order in a window are ranked in it (METRICS.md "Top customers").</summary>
    private static string WindowsSql(bool all) => $"""
        {(all ? "" : "DELETE FROM customer_windows WHERE tenant_id = @tenant AND customer_id = ANY(@c);")}
        INSERT INTO customer_windows (tenant_id, days, customer_id, orders, net)
        SELECT @tenant, w.days, cd.customer_id, sum(cd.orders), sum(cd.sales - cd.returns)
        FROM stores s CROSS JOIN unnest(ARRAY[{string.Join(", ", WindowDays)}]::smallint[]) AS w(days)
        JOIN customer_daily cd ON cd.tenant_id = @tenant {(all ? "" : "AND cd.customer_id = ANY(@c)")}
          AND cd.day > s.windows_day - w.days AND cd.day <= s.windows_day
        WHERE s.id = @tenant
        GROUP BY w.days, cd.customer_id
        HAVING sum(cd.orders) > 0
        """;

    /// <summary>Recomputes the affected customers' days, lifetime figures and pairs; returns the days whose
    /// new-customer and prospect counts their first orders moved.</summary>
    private static async Task<List<DateOnly>> RefreshCustomersAsync(Sql sql, string timezone, long[] customers, CancellationToken ct)
    {
        var tz = ("tz", (object)timezone, NpgsqlDbType.Text);
        var ids = ("c", (object)customers, NpgsqlDbType.Array | NpgsqlDbType.Bigint);
        var moved = new List<DateOnly>();
        var oldDays = new Dictionary<long, int[]>();
        await sql.ReadAsync("SELECT customer_id, first_day, days FROM customer_stats WHERE tenant_id = @tenant AND customer_id = ANY(@c)", r =>
        {
            oldDays[r.GetInt64(0)] = r.GetFieldValue<int[]>(2);
            moved.Add(r.GetFieldValue<DateOnly>(1));
        }, ct, ids);

        await sql.ExecuteAsync("DELETE FROM customer_daily WHERE tenant_id = @tenant AND customer_id = ANY(@c)", ct, ids);
        await sql.ExecuteAsync(CustomerDailySql, ct, tz, ids);
        await sql.ExecuteAsync($"""
            WITH gone AS (DELETE FROM customer_stats WHERE tenant_id = @tenant AND customer_id = ANY(@c) RETURNING net, first_day),
            {CountNets("gone", -1)}
            SELECT 1
            """, ct, ids);
        var newDays = new Dictionary<long, int[]>();
        await sql.ReadAsync($"""
            WITH added AS ({CustomerStatsSql} RETURNING customer_id, first_day, days, net),
            {CountNets("added", +1)}
            SELECT customer_id, first_day, days FROM added
            """, r =>
        {
            newDays[r.GetInt64(0)] = r.GetFieldValue<int[]>(2);
            moved.Add(r.GetFieldValue<DateOnly>(1));
        }, ct, tz, ids);
        await sql.ExecuteAsync("""
            DELETE FROM customer_nets WHERE tenant_id = @tenant AND customers = 0;
            DELETE FROM customer_first_day_nets WHERE tenant_id = @tenant AND customers = 0;
            """, ct);

        var cells = new Dictionary<(short Kind, short Res, int P, int D), int>();
        foreach (var customer in customers)
        {
            AddPairs(cells, oldDays.GetValueOrDefault(customer), -1);
            AddPairs(cells, newDays.GetValueOrDefault(customer), +1);
        }
        var changed = cells.Where(c => c.Value != 0).ToList();
        if (changed.Count > 0)
        {
            await sql.ExecuteAsync("""
                INSERT INTO customer_pairs AS cp (tenant_id, kind, res, p, d, n) SELECT @tenant, * FROM unnest(@kind, @res, @p, @d, @n)
                ON CONFLICT (tenant_id, kind, res, p, d) DO UPDATE SET n = cp.n + excluded.n;
                DELETE FROM customer_pairs cp USING unnest(@kind, @res, @p, @d) AS u(kind, res, p, d)
                WHERE cp.tenant_id = @tenant AND cp.kind = u.kind AND cp.res = u.res AND cp.p = u.p AND cp.d = u.d AND cp.n = 0;
                """, ct,
                ("kind", changed.Select(c => c.Key.Kind).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Smallint),
                ("res", changed.Select(c => c.Key.Res).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Smallint),
                ("p", changed.Select(c => c.Key.P).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer),
                ("d", changed.Select(c => c.Key.D).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer),
                ("n", changed.Select(c => c.Value).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer));
        }
        return moved;
    }

    /// <summary>Adds (sign +1) or takes away (−1) the customers of <paramref name="rows"/> (a set with <c>net</c> and
    /// <c>first_day</c> columns) from their lifetime-net buckets, overall and by first day: two data-modifying CTEs for
    /// the caller's WITH. Buckets in order, so that two writers would lock them in the same order.</summary>
    private static string CountNets(string rows, int sign) => $"""
        counted_nets AS (
          INSERT INTO customer_nets AS b (tenant_id, lo, customers, net)
          SELECT @tenant, xeno_net_floor(net), {sign} * count(*), {sign} * sum(net) FROM {rows} GROUP BY 2 ORDER BY 2
          ON CONFLICT (tenant_id, lo) DO UPDATE SET customers = b.customers + excluded.customers, net = b.net + excluded.net
          RETURNING 1),
        counted_first_days AS (
          INSERT INTO customer_first_day_nets AS b (tenant_id, first_day, lo, customers, net)
          SELECT @tenant, first_day, xeno_net_floor(net), {sign} * count(*), {sign} * sum(net) FROM {rows} GROUP BY 2, 3 ORDER BY 2, 3
          ON CONFLICT (tenant_id, first_day, lo) DO UPDATE SET customers = b.customers + excluded.customers, net = b.net + excluded.net
          RETURNING 1)
        """;

    /// <summary>A customer's consecutive orders as pair cells at each resolution (the first pair also as kind 2).</summary>
    private static void AddPairs(Dictionary<(short, short, int, int), int> cells, int[]? days, int sign)
    {
        if (days is null) return;
        for (var i = 1; i < days.Length; i++)
        {
            var (p, d) = (days[i - 1], days[i]);
            var (pm, dm) = (MonthOfDayNumber(p), MonthOfDayNumber(d));
            foreach (var kind in i == 1 ? [KindConsecutive, KindFirstSecond] : new[] { KindConsecutive })
            {
                Add(cells, (kind, DayDay, p, d), sign);
                Add(cells, (kind, DayMonth, p, dm), sign);
                Add(cells, (kind, MonthDay, pm, d), sign);
                Add(cells, (kind, MonthMonth, pm, dm), sign);
            }
        }
    }

    private static void Add(Dictionary<(short, short, int, int), int> cells, (short, short, int, int) key, int sign) =>
        cells[key] = cells.GetValueOrDefault(key) + sign;

    public static DateOnly LocalDay(DateTimeOffset instant, string timezone)
    {
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(timezone, out var z) ? z : TimeZoneInfo.Utc;
        return DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);
    }

    // The counted orders of the customers concerned: not test, not deleted.
    private const string CountedOrdersOfCustomers = "o.tenant_id = @tenant AND o.customer_id = ANY(@c) AND NOT o.test AND o.deleted_at IS NULL";

    /// <summary>Per customer and local day: their orders dated that day, those orders' sales (gross − discounts, gift
    /// cards left out), and the returns of refunds dated that day on any of their orders.</summary>
    private const string CustomerDailySql = $"""
        INSERT INTO customer_daily (tenant_id, customer_id, day, orders, sales, returns)
        WITH co AS (
          SELECT o.id, o.customer_id, (o.processed_at AT TIME ZONE @tz)::date AS day FROM orders o WHERE {CountedOrdersOfCustomers}),
        s AS (
          SELECT co.customer_id, co.day, count(DISTINCT co.id) AS orders,
                 coalesce(sum(l.original_unit_price * l.quantity - l.discount_allocated) FILTER (WHERE NOT l.is_gift_card), 0) AS sales
          FROM co LEFT JOIN order_lines l ON l.tenant_id = @tenant AND l.order_id = co.id
          GROUP BY co.customer_id, co.day),
        r AS (
          SELECT co.customer_id, (r.created_at AT TIME ZONE @tz)::date AS day, sum(rl.subtotal) AS returns
          FROM co JOIN refunds r ON r.tenant_id = @tenant AND r.order_id = co.id
          JOIN refund_lines rl ON rl.tenant_id = @tenant AND rl.refund_id = r.id
          LEFT JOIN order_lines l ON l.tenant_id = @tenant AND l.id = rl.line_item_id
          WHERE NOT coalesce(l.is_gift_card, false)
          GROUP BY 1, 2)
        SELECT @tenant, coalesce(s.customer_id, r.customer_id), coalesce(s.day, r.day),
               coalesce(s.orders, 0), coalesce(s.sales, 0), coalesce(r.returns, 0)
        FROM s FULL JOIN r ON r.customer_id = s.customer_id AND r.day = s.day
        """;

    /// <summary>Per customer over their whole history: first order, count, lifetime net (from customer_daily, just
    /// written) and the local days of their orders in order (processedAt, ties by id), which the pairs come from.</summary>
    private const string CustomerStatsSql = $"""
        INSERT INTO customer_stats (tenant_id, customer_id, first_order_at, first_day, orders, net, days)
        SELECT @tenant, o.customer_id, min(o.processed_at), (min(o.processed_at) AT TIME ZONE @tz)::date, count(*),
               (SELECT coalesce(sum(cd.sales - cd.returns), 0) FROM customer_daily cd WHERE cd.tenant_id = @tenant AND cd.customer_id = o.customer_id),
               array_agg((o.processed_at AT TIME ZONE @tz)::date - date '1970-01-01' ORDER BY o.processed_at, o.id)
        FROM orders o WHERE {CountedOrdersOfCustomers}
        GROUP BY o.customer_id
        """;

    private const string MonthOf = "(extract(year FROM {0})::int * 12 + extract(month FROM {0})::int - 1)";

    // The refresh statements below walk from the concerned days (or customers) to their rows through LATERAL subqueries
    // that cannot be flattened (OFFSET 0): one index range or probe per day, order and refund. As plain joins, the
    // planner, unable to tell how few rows a day's range holds, hashed all of a store's order lines for each refresh
    // (2 s a write of refund details at a million orders, against 0.5 s this way). Not LIMIT 1 for the probes by key:
    // on statistics from before a store's first load, a LIMIT let the planner prefer walking the store's rows through
    // another index until the key turned up.

    // The counted orders (o) dated on the concerned days (b), and the refunds (r) dated on them with their counted order (x).
    private const string CountedOrdersOfDays = """
        b CROSS JOIN LATERAL (SELECT * FROM orders o
            WHERE o.tenant_id = @tenant AND o.processed_at >= b.lo AND o.processed_at < b.hi AND NOT o.test AND o.deleted_at IS NULL OFFSET 0) o
        """;
    private const string RefundsOfDaysOnCountedOrders = """
        b CROSS JOIN LATERAL (SELECT * FROM refunds r WHERE r.tenant_id = @tenant AND r.created_at >= b.lo AND r.created_at < b.hi OFFSET 0) r
          CROSS JOIN LATERAL (SELECT x.customer_id FROM orders x WHERE x.tenant_id = @tenant AND x.id = r.order_id AND NOT x.test AND x.deleted_at IS NULL OFFSET 0) x
        """;

    /// <summary>Each concerned day whole: orders, sales, shipping and taxes of orders dated that day; returns, refunded
    /// shipping and refunded taxes of refunds dated that day on counted orders; orders, sales and returns of customers'
    /// orders, and first orders (new customers); abandoned checkouts created that day; customers created that day, and customers who stopped being
    /// prospects that day (the later of their creation and their first order).</summary>
    private const string DailySql = $"""
        DELETE FROM daily_metrics WHERE tenant_id = @tenant AND day = ANY(@days);
        INSERT INTO daily_metrics (tenant_id, day, orders, gross, discounts, shipping, taxes, returns, refunded_shipping, refunded_taxes,
          customer_orders, customer_sales, customer_returns, new_customers, abandoned_checkouts, abandoned_value, customers_created, prospects_converted)
        WITH d AS (SELECT DISTINCT unnest(@days) AS day),
        b AS (SELECT day, day::timestamp AT TIME ZONE @tz AS lo, (day + 1)::timestamp AT TIME ZONE @tz AS hi FROM d),
        o AS (
          SELECT b.day, o.id, o.customer_id, o.shipping_price, o.total_tax
          FROM {CountedOrdersOfDays}),
        od AS (SELECT day, count(*) AS orders, sum(shipping_price) AS shipping, sum(total_tax) AS taxes, count(customer_id) AS customer_orders FROM o GROUP BY day),
        ol AS (
          SELECT o.day, sum(l.original_unit_price * l.quantity) AS gross, sum(l.discount_allocated) AS discounts,
                 sum(l.original_unit_price * l.quantity - l.discount_allocated) FILTER (WHERE o.customer_id IS NOT NULL) AS customer_sales
          FROM o CROSS JOIN LATERAL (SELECT * FROM order_lines l WHERE l.tenant_id = @tenant AND l.order_id = o.id AND NOT l.is_gift_card OFFSET 0) l
          GROUP BY o.day),
        r AS (
          SELECT b.day, r.id, r.shipping_refunded, r.shipping_tax_refunded, x.customer_id
          FROM {RefundsOfDaysOnCountedOrders}),
        rd AS (SELECT day, sum(shipping_refunded) AS shipping, sum(shipping_tax_refunded) AS tax FROM r GROUP BY day),
        rl AS (
          SELECT r.day, sum(x.subtotal) AS returns, sum(x.total_tax) AS tax,
                 sum(x.subtotal) FILTER (WHERE r.customer_id IS NOT NULL) AS customer_returns
          FROM r CROSS JOIN LATERAL (SELECT * FROM refund_lines x WHERE x.tenant_id = @tenant AND x.refund_id = r.id OFFSET 0) x
          LEFT JOIN LATERAL (SELECT l.is_gift_card FROM order_lines l WHERE l.tenant_id = @tenant AND l.id = x.line_item_id OFFSET 0) l ON true
          WHERE NOT coalesce(l.is_gift_card, false)
          GROUP BY r.day),
        nc AS (SELECT s.first_day AS day, count(*) AS n FROM customer_stats s JOIN d ON d.day = s.first_day WHERE s.tenant_id = @tenant GROUP BY s.first_day),
        ab AS (
          SELECT b.day, count(*) AS n, sum(c.total_price) AS v
          FROM b CROSS JOIN LATERAL (SELECT * FROM checkouts c
            WHERE c.tenant_id = @tenant AND c.created_at >= b.lo AND c.created_at < b.hi AND c.completed_at IS NULL AND c.deleted_at IS NULL OFFSET 0) c
          LEFT JOIN LATERAL (
            SELECT true AS found FROM orders t WHERE c.token IS NOT NULL AND t.tenant_id = @tenant AND t.checkout_token = c.token AND t.deleted_at IS NULL LIMIT 1) t ON true
          WHERE t.found IS NULL
          GROUP BY b.day),
        cc AS (
          SELECT b.day, count(*) AS n FROM b JOIN customers c ON c.tenant_id = @tenant AND c.created_at >= b.lo AND c.created_at < b.hi
          WHERE c.deleted_at IS NULL GROUP BY b.day),
        pc AS (
          SELECT day, count(*) AS n FROM (
            SELECT s.first_day AS day
            FROM d CROSS JOIN LATERAL (SELECT * FROM customer_stats s WHERE s.tenant_id = @tenant AND s.first_day = d.day OFFSET 0) s
            CROSS JOIN LATERAL (SELECT c.created_at FROM customers c WHERE c.tenant_id = @tenant AND c.id = s.customer_id
              AND c.deleted_at IS NULL AND c.created_at IS NOT NULL OFFSET 0) c
            WHERE (c.created_at AT TIME ZONE @tz)::date <= s.first_day
            UNION ALL
            SELECT b.day
            FROM b CROSS JOIN LATERAL (SELECT c.id FROM customers c
              WHERE c.tenant_id = @tenant AND c.created_at >= b.lo AND c.created_at < b.hi AND c.deleted_at IS NULL OFFSET 0) c
            CROSS JOIN LATERAL (SELECT 1 FROM customer_stats s WHERE s.tenant_id = @tenant AND s.customer_id = c.id AND s.first_day < b.day OFFSET 0) s
            ) x
          GROUP BY day)
        SELECT @tenant, d.day, coalesce(od.orders, 0), coalesce(ol.gross, 0), coalesce(ol.discounts, 0),
               coalesce(od.shipping, 0), coalesce(od.taxes, 0), coalesce(rl.returns, 0), coalesce(rd.shipping, 0),
               coalesce(rl.tax, 0) + coalesce(rd.tax, 0), coalesce(od.customer_orders, 0),
               coalesce(ol.customer_sales, 0), coalesce(rl.customer_returns, 0), coalesce(nc.n, 0),
               coalesce(ab.n, 0), coalesce(ab.v, 0), coalesce(cc.n, 0), coalesce(pc.n, 0)
        FROM d LEFT JOIN od USING (day) LEFT JOIN ol USING (day) LEFT JOIN rd USING (day) LEFT JOIN rl USING (day)
          LEFT JOIN nc USING (day) LEFT JOIN ab USING (day) LEFT JOIN cc USING (day) LEFT JOIN pc USING (day)
        """;

    /// <summary>Per product (custom items keyed 0) and day: units, gross and discounts of lines of orders dated that day;
    /// units and returns of refunds dated that day; the lines' titles, for products Xeno has no record of.</summary>
    private const string ProductDailySql = $"""
        DELETE FROM product_daily WHERE tenant_id = @tenant AND day = ANY(@days);
        INSERT INTO product_daily (tenant_id, day, product_key, units_sold, units_returned, gross, discounts, returns, title, returned_title)
        WITH d AS (SELECT DISTINCT unnest(@days) AS day),
        b AS (SELECT day, day::timestamp AT TIME ZONE @tz AS lo, (day + 1)::timestamp AT TIME ZONE @tz AS hi FROM d),
        sold AS (
          SELECT b.day, coalesce(l.product_id, 0) AS k, sum(l.quantity) AS units, sum(l.original_unit_price * l.quantity) AS gross,
                 sum(l.discount_allocated) AS discounts, max(l.title) AS title
          FROM {CountedOrdersOfDays}
          CROSS JOIN LATERAL (SELECT * FROM order_lines l WHERE l.tenant_id = @tenant AND l.order_id = o.id AND NOT l.is_gift_card OFFSET 0) l
          GROUP BY 1, 2),
        ret AS (
          SELECT b.day, coalesce(l.product_id, 0) AS k, sum(rl.quantity) AS units, sum(rl.subtotal) AS returns, max(l.title) AS title
          FROM {RefundsOfDaysOnCountedOrders}
          CROSS JOIN LATERAL (SELECT * FROM refund_lines rl WHERE rl.tenant_id = @tenant AND rl.refund_id = r.id OFFSET 0) rl
          CROSS JOIN LATERAL (SELECT * FROM order_lines l WHERE l.tenant_id = @tenant AND l.id = rl.line_item_id AND NOT l.is_gift_card OFFSET 0) l
          GROUP BY 1, 2)
        SELECT @tenant, coalesce(s.day, r.day), coalesce(s.k, r.k), coalesce(s.units, 0), coalesce(r.units, 0),
               coalesce(s.gross, 0), coalesce(s.discounts, 0), coalesce(r.returns, 0), s.title, r.title
        FROM sold s FULL JOIN ret r ON r.day = s.day AND r.k = s.k
        """;

    /// <summary>Runs SQL on the writer's connection and transaction, with the tenant as <c>@tenant</c>.</summary>
    private sealed class Sql(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenant)
    {
        public Task ExecuteAsync(string text, CancellationToken ct, params (string Name, object Value, NpgsqlDbType Type)[] parameters) =>
            ExecuteAsync(text, ct, unbounded: false, parameters);

        public async Task ExecuteAsync(string text, CancellationToken ct, bool unbounded, params (string Name, object Value, NpgsqlDbType Type)[] parameters)
        {
            await using var command = Command(text, parameters);
            if (unbounded) command.CommandTimeout = 0;
            await command.ExecuteNonQueryAsync(ct);
        }

        public async Task ReadAsync(string text, Action<NpgsqlDataReader> row, CancellationToken ct, params (string Name, object Value, NpgsqlDbType Type)[] parameters)
        {
            await using var command = Command(text, parameters);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) row(reader);
        }

        /// <summary>The store's time zone, and the one its aggregates were built for (null when never built).</summary>
        public async Task<(string? Timezone, string? BuiltFor)> StateAsync(CancellationToken ct)
        {
            (string?, string?) state = (null, null);
            await ReadAsync("SELECT timezone, aggregates_timezone FROM stores WHERE id = @tenant",
                r => state = (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)), ct);
            return state;
        }

        private NpgsqlCommand Command(string text, (string Name, object Value, NpgsqlDbType Type)[] parameters)
        {
            var command = new NpgsqlCommand(text, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenant });
            foreach (var (name, value, type) in parameters) command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value });
            return command;
        }
    }
}
