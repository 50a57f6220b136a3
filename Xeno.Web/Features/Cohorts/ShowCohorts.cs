using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Metrics;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Cohorts;

/// <summary>
/// The store's cohorts (METRICS.md "Cohorts") as a retention triangle: acquisition months as rows, months since the first
/// order as columns, either retention or cumulative net sales per customer in the cells. What is shown lives in the URL
/// (<c>view</c>, <c>months</c>, <c>asOf</c>); anything unreadable falls back to the default, as a page should.
/// <c>format=csv</c> answers the metrics API's CSV for the same cohorts: the API itself takes a bearer token only, which a
/// browser's link cannot send.
/// </summary>
public static class ShowCohorts
{
    public static readonly int[] MonthChoices = [6, 12, 24];

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var query = http.Request.Query;
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId, ct);
        var today = MetricsRange.Today(store.Timezone, clock);
        var months = int.TryParse(query["months"], NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m is >= 1 and <= GetCohorts.MaxMonths
            ? m : GetCohorts.DefaultMonths;
        var asOfGiven = MetricsRange.TryDate(query["asOf"], today, out var asOf) && MetricsRange.InWindow(asOf, today) && !string.IsNullOrEmpty(query["asOf"]);
        if (!asOfGiven) asOf = today;
        var view = query["view"] == "sales" ? CohortsView.Sales : CohortsView.Retention;

        if (query["format"] == "csv")
            return await GetCohorts.HandleApiAsync(new CohortsQuery(Day(asOf), months.ToString(CultureInfo.InvariantCulture), "csv"), http.Request, db,
                tenant, clock, ct);

        var data = await GetCohorts.QueryAsync(db, store, asOf, months, ct);
        return CohortsPage.Create(new CohortsPageModel(http.User.Identity!.Name!, StoreResponse.From(store), view, months, asOf, asOfGiven, data));
    }

    internal static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

public enum CohortsView { Retention, Sales }

/// <summary>The cohort that retains best at month 3 among the recent ones that have reached it.</summary>
public sealed record BestCohort(GetCohorts.Cohort Cohort, GetCohorts.Period Period, int Considered);

public sealed record CohortsPageModel(string UserEmail, StoreResponse Store, CohortsView View, int Months, DateOnly AsOf, bool AsOfGiven,
    GetCohorts.Response Data)
{
    /// <summary>"Recent" for the reading aid: the last six cohorts whose month 3 is over (not the running month).</summary>
    public const int RecentCohorts = 6;
    public const int ReadingOffset = 3;
    /// <summary>A cohort smaller than this is left out of the reading aid: with fewer customers, one of them ordering
    /// again moves its retention by more than ten points, and "best" would name chance.</summary>
    public const int MinCohortCustomers = 10;
    public const int Steps = 5;

    public int Columns => Data.Cohorts.Count == 0 ? 0 : Data.Cohorts.Max(c => c.Periods.Count);

    public string Url(CohortsView view, int months) =>
        $"/stores/{Store.Id}/cohorts?view={(view == CohortsView.Sales ? "sales" : "retention")}&months={months}" + (AsOfGiven ? $"&asOf={ShowCohorts.Day(AsOf)}" : "");

    public string CsvUrl => $"/stores/{Store.Id}/cohorts?months={Months}&asOf={ShowCohorts.Day(AsOf)}&format=csv";

    public BestCohort? Best
    {
        get
        {
            var reached = Data.Cohorts
                .Where(c => c.Customers >= MinCohortCustomers && c.Periods.Count > ReadingOffset && !c.Periods[ReadingOffset].Partial)
                .TakeLast(RecentCohorts).ToList();
            // Ties go to the larger cohort (more customers behind the same rate), then to the more recent one.
            var best = reached.Select((c, i) => (Cohort: c, Index: i))
                .OrderByDescending(x => x.Cohort.Periods[ReadingOffset].Retention).ThenByDescending(x => x.Cohort.Customers).ThenByDescending(x => x.Index)
                .FirstOrDefault();
            return best.Cohort is null ? null : new BestCohort(best.Cohort, best.Cohort.Periods[ReadingOffset], reached.Count);
        }
    }

    private decimal Value(GetCohorts.Period p) => View == CohortsView.Sales ? p.CumulativeNetSalesPerCustomer : p.Retention;

    /// <summary>The largest value the shading is scaled to: for retention, month 0 (always 100 %) is left out, or it
    /// would wash out every later month.</summary>
    private decimal Max => Data.Cohorts.Where(c => c.Customers > 0)
        .SelectMany(c => c.Periods.Where(p => View == CohortsView.Sales || p.Offset > 0)).Select(Value).DefaultIfEmpty(0).Max();

    /// <summary>The cell's shade: <c>heat-0</c> (nothing) to <c>heat-5</c> (the table's largest value); month 0 of
    /// retention has a neutral shade of its own.</summary>
    public string Shade(GetCohorts.Cohort cohort, GetCohorts.Period period)
    {
        if (cohort.Customers == 0) return "heat-none";
        if (View == CohortsView.Retention && period.Offset == 0) return "heat-base";
        var value = Value(period);
        var max = Max;
        if (value <= 0 || max <= 0) return "heat-0";
        return "heat-" + Math.Clamp((int)Math.Ceiling(value / max * Steps), 1, Steps).ToString(CultureInfo.InvariantCulture);
    }

    public string Text(GetCohorts.Period period) => View == CohortsView.Sales
        ? Dashboard.Formats.Money(period.CumulativeNetSalesPerCustomer, Store.Currency)
        : Dashboard.Formats.Percent(period.Retention);

    public static string MonthName(string yyyyMm) =>
        DateOnly.ParseExact(yyyyMm + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture).ToString("MMM yyyy", CultureInfo.InvariantCulture);
}
