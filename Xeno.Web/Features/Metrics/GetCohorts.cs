using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

/// <summary>
/// METRICS.md "Cohorts": customers grouped by the local month of their first counted order, and per month since, how many
/// ordered again and what they spent net. Guests have no first order (no customer), so they are in no cohort.
/// </summary>
public static class GetCohorts
{
    public const int DefaultMonths = 12;
    public const int MaxMonths = 36;

    public sealed record Period(int Offset, int ActiveCustomers, decimal Retention, decimal NetSales, decimal CumulativeNetSalesPerCustomer, bool Partial);
    public sealed record Cohort(string Month, int Customers, IReadOnlyList<Period> Periods);
    public sealed record Response(DateOnly AsOf, IReadOnlyList<Cohort> Cohorts);

    // One grouped pass over the aggregates of the window (@from = the first day of the oldest cohort month, @to = asOf):
    // customer_stats gives each customer's first local day, so its cohort; customer_daily gives per customer and day the
    // orders dated that day, their sales (gross − discounts) and the returns of refunds dated that day on the customer's
    // orders, so a refund booked in a later month counts in the month it is booked. Each row of the window is read once,
    // whatever the number of cohorts; rows after asOf are never read, so only data up to asOf counts. The first row per
    // cohort (at = null) is its size.
    private const string Sql = """
        WITH cohort AS MATERIALIZED (
          SELECT customer_id, date_trunc('month', first_day::timestamp)::date AS month
          FROM customer_stats WHERE tenant_id = @tenant AND first_day BETWEEN @from AND @to),
        activity AS (
          SELECT c.month, date_trunc('month', d.day::timestamp)::date AS at,
                 count(DISTINCT d.customer_id) FILTER (WHERE d.orders > 0) AS active, sum(d.sales - d.returns) AS net
          FROM cohort c JOIN customer_daily d ON d.tenant_id = @tenant AND d.customer_id = c.customer_id AND d.day BETWEEN @from AND @to
          GROUP BY 1, 2)
        SELECT month, NULL::date, count(*), 0::numeric FROM cohort GROUP BY month
        UNION ALL
        SELECT month, at, active, net FROM activity
        """;

    public static async Task<IResult> HandleApiAsync([AsParameters] CohortsQuery query, HttpRequest request, XenoDb db, TenantContext tenant,
        TimeProvider clock, CancellationToken ct)
    {
        if (!MetricsFormat.TryCsv(query.Format, request, out var csv)) return MetricsFormat.Bad;
        var months = DefaultMonths;
        if (!string.IsNullOrEmpty(query.Months) && !(int.TryParse(query.Months, NumberStyles.None, CultureInfo.InvariantCulture, out months) && months is >= 1 and <= MaxMonths))
            return MetricsRange.Bad($"months must be a whole number from 1 to {MaxMonths}.");
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        var today = MetricsRange.Today(store.Timezone, clock);
        if (!MetricsRange.TryDate(query.AsOf, today, out var asOf)) return MetricsRange.Bad("asOf must be a date as yyyy-MM-dd.");
        if (!MetricsRange.InWindow(asOf, today)) return MetricsRange.Bad(MetricsRange.WindowMessage(today));
        var body = await QueryAsync(db, store, asOf, months, ct);
        return csv ? Csv(body, store.ShopDomain) : TypedResults.Ok(body);
    }

    /// <summary>The <paramref name="months"/> acquisition months ending with asOf's, oldest first, each with its periods
    /// 0 .. (asOf's month − its month); empty cohorts with zeros.</summary>
    public static async Task<Response> QueryAsync(XenoDb db, Store store, DateOnly asOf, int months, CancellationToken ct)
    {
        var last = new DateOnly(asOf.Year, asOf.Month, 1);
        var first = last.AddMonths(-(months - 1));
        var rows = await MetricsSql.QueryAsync(db, MetricsRange.For(store, first, asOf), Sql, r => (
                Month: r.GetFieldValue<DateOnly>(0), At: r.IsDBNull(1) ? (DateOnly?)null : r.GetFieldValue<DateOnly>(1),
                Count: r.GetInt64(2), Net: r.GetDecimal(3)), ct: ct);
        var sizes = rows.Where(r => r.At is null).ToDictionary(r => r.Month, r => (int)r.Count);
        var activity = rows.Where(r => r.At is not null).ToDictionary(r => (r.Month, At: r.At!.Value), r => (Active: (int)r.Count, r.Net));
        // asOf's month is still running unless asOf is its last day.
        var asOfMonthPartial = asOf.AddDays(1).Month == asOf.Month;

        var cohorts = new List<Cohort>(months);
        for (var month = first; month <= last; month = month.AddMonths(1))
        {
            var customers = sizes.GetValueOrDefault(month);
            var periods = new List<Period>();
            var cumulative = 0m;
            var offsets = (last.Year - month.Year) * 12 + last.Month - month.Month;
            for (var k = 0; k <= offsets; k++)
            {
                var (active, net) = activity.GetValueOrDefault((month, month.AddMonths(k)));
                cumulative += net;
                periods.Add(new Period(k, active, Money.Rate(active, customers), Money.Round(net),
                    customers == 0 ? 0 : Money.Round(cumulative / customers), k == offsets && asOfMonthPartial));
            }
            cohorts.Add(new Cohort(month.ToString("yyyy-MM", CultureInfo.InvariantCulture), customers, periods));
        }
        return new Response(asOf, cohorts);
    }

    /// <summary>One row per cohort and period (the triangle flattened), the cohort's month and size repeated on each.</summary>
    private static MetricsCsv Csv(Response body, string shopDomain)
    {
        var csv = new MetricsCsv(MetricsCsv.FileName(shopDomain, "cohorts", $"{body.AsOf:yyyy-MM-dd}"),
            ["asOf", "month", "customers", "offset", "activeCustomers", "retention", "netSales", "cumulativeNetSalesPerCustomer", "partial"]);
        foreach (var c in body.Cohorts)
            foreach (var p in c.Periods)
                csv.Row(body.AsOf, c.Month, c.Customers, p.Offset, p.ActiveCustomers, p.Retention, p.NetSales, p.CumulativeNetSalesPerCustomer, p.Partial);
        return csv;
    }
}
