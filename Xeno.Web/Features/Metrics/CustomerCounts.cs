using System.Globalization;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;

namespace Xeno.Web.Features.Metrics;

/// <summary>
/// METRICS.md "Customers" over a range, exactly, from aggregates whose size does not grow with the orders stored:
/// customers with an order in the range = their orders in it minus the pairs of consecutive orders lying wholly in it
/// (each customer's orders in a range are consecutive in their history); returning customers the same over repeat
/// orders (every order but a customer's first); new customers = first orders in the range.
/// </summary>
public static class CustomerCounts
{
    public sealed record Counts(int Customers, int New, int Returning);

    public static async Task<Counts> QueryAsync(XenoDb db, MetricsRange range, CancellationToken ct)
    {
        var sql = $"""
            WITH m AS (
              SELECT coalesce(sum(customer_orders), 0) AS orders, coalesce(sum(new_customers), 0) AS fresh
              FROM daily_metrics WHERE tenant_id = @tenant AND day BETWEEN @from AND @to),
            pairs AS (
              SELECT coalesce(sum(n) FILTER (WHERE kind = {ShopAggregates.KindConsecutive}), 0) AS consecutive,
                     coalesce(sum(n) FILTER (WHERE kind = {ShopAggregates.KindFirstSecond}), 0) AS first_second
              FROM customer_pairs WHERE tenant_id = @tenant AND ({PairsWithin(range.From, range.To)}))
            SELECT m.orders, m.fresh, pairs.consecutive, pairs.first_second FROM m, pairs
            """;
        var (orders, fresh, consecutive, firstSecond) = (await MetricsSql.QueryAsync(db, range, sql,
            r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), ct: ct)).Single();
        return new Counts((int)(orders - consecutive), (int)fresh, (int)(orders - fresh - (consecutive - firstSecond)));
    }

    /// <summary>
    /// The cells holding the pairs (p, d) with from ≤ p ≤ d ≤ to: whole months inside the range at month resolution,
    /// the days before the first whole month (L) and after the last (R) at day resolution, and the cross terms at mixed
    /// resolution. Every part reads a bounded number of cells.
    /// </summary>
    public static string PairsWithin(DateOnly from, DateOnly to)
    {
        static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
        var (lo, hi) = (ShopAggregates.DayNumber(from), ShopAggregates.DayNumber(to));
        var firstWhole = from.Day == 1 ? new DateOnly(from.Year, from.Month, 1) : new DateOnly(from.Year, from.Month, 1).AddMonths(1);
        var lastWhole = to.AddDays(1).Day == 1 ? new DateOnly(to.Year, to.Month, 1) : new DateOnly(to.Year, to.Month, 1).AddMonths(-1);
        if (firstWhole > lastWhole)
            return $"res = {ShopAggregates.DayDay} AND p BETWEEN {N(lo)} AND {N(hi)} AND d <= {N(hi)}";

        var (ma, mb) = (ShopAggregates.MonthNumber(firstWhole), ShopAggregates.MonthNumber(lastWhole));
        var lHi = ShopAggregates.DayNumber(firstWhole) - 1;
        var rLo = ShopAggregates.DayNumber(lastWhole.AddMonths(1));
        var hasL = lHi >= lo;
        var hasR = rLo <= hi;
        var parts = new List<string> { $"(res = {ShopAggregates.MonthMonth} AND p BETWEEN {N(ma)} AND {N(mb)} AND d <= {N(mb)})" };
        if (hasL)
        {
            // Each branch a plain range on (res, p) and d, so that every one is an index condition.
            parts.Add($"(res = {ShopAggregates.DayDay} AND p BETWEEN {N(lo)} AND {N(lHi)} AND d <= {N(lHi)})");
            if (hasR) parts.Add($"(res = {ShopAggregates.DayDay} AND p BETWEEN {N(lo)} AND {N(lHi)} AND d BETWEEN {N(rLo)} AND {N(hi)})");
            parts.Add($"(res = {ShopAggregates.DayMonth} AND p BETWEEN {N(lo)} AND {N(lHi)} AND d BETWEEN {N(ma)} AND {N(mb)})");
        }
        if (hasR)
        {
            parts.Add($"(res = {ShopAggregates.MonthDay} AND p BETWEEN {N(ma)} AND {N(mb)} AND d BETWEEN {N(rLo)} AND {N(hi)})");
            parts.Add($"(res = {ShopAggregates.DayDay} AND p BETWEEN {N(rLo)} AND {N(hi)} AND d <= {N(hi)})");
        }
        return string.Join(" OR ", parts);
    }
}
