using System.Globalization;
using Xeno.Web.Features.Dashboard;
using Xeno.Web.Features.Metrics;
using Xeno.Web.Features.Shared;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Overview;

/// <summary>
/// Every store of the account over the range in the URL (the dashboard's presets, each store's dates in its own zone), with
/// the change against the comparison in the URL and totals per currency, from <see cref="GetOverview"/>. <c>format=csv</c>
/// answers the overview API's CSV for the same ranges: the API itself takes a bearer token only, which a link cannot send.
/// </summary>
public static class ShowOverview
{
    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, TimeProvider clock, IServiceScopeFactory scopes, CancellationToken ct)
    {
        var query = http.Request.Query;
        var stores = await ListStores.QueryAsync(db, http.User.UserId());
        var ranges = stores.Select(s => (Store: s, Range: DashboardRange.Parse(query, MetricsRange.Today(s.Timezone, clock)))).ToList();
        // Without a store the picker still shows the range, as of today in UTC.
        var shown = ranges.Count > 0 ? ranges[0].Range : DashboardRange.Parse(query, MetricsRange.Today("UTC", clock));
        var with = CompareChoices.Parse(query["compare"]);

        var body = await GetOverview.QueryAsync(scopes, ranges.Select(r => (r.Store, MetricsRange.For(r.Store, r.Range.From, r.Range.To))).ToList(), with, ct);
        if (query["format"] == "csv") return GetOverview.Csv(body, CsvDates(shown), with is not null);

        var sameDates = ranges.Select(r => (r.Range.From, r.Range.To)).Distinct().Count() <= 1;
        return OverviewPage.Create(new OverviewPageModel(http.User.Identity!.Name!, shown, with, sameDates, body));
    }

    private static string CsvDates(DashboardRange range) => range.Preset switch
    {
        "custom" => $"{range.From:yyyy-MM-dd}-{range.To:yyyy-MM-dd}",
        "today" => "today",
        "month" => "this-month",
        var days => $"last-{days}-days",
    };
}

public sealed record OverviewPageModel(string UserEmail, DashboardRange Range, CompareWith? Compare, bool SameDates, GetOverview.Response Data)
{
    public string CompareKey => Compare.Key();

    public string Url(string rangeQuery, string compareKey) => "/overview?" + rangeQuery + CompareChoices.Parse(compareKey).Query();

    public string CsvUrl => Url(Range.Query, CompareKey) + "&format=csv";

    public string Against => ChangeText.Against(Compare);

    public static string RangeText(DashboardRange range) =>
        range.From.ToString("d MMM yyyy", CultureInfo.InvariantCulture) + " – " + range.To.ToString("d MMM yyyy", CultureInfo.InvariantCulture);
}
