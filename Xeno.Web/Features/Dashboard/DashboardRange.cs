using Xeno.Web.Features.Metrics;

namespace Xeno.Web.Features.Dashboard;

/// <summary>The date range of the dashboard, kept in the URL: a preset (today, 7, 30, 90 days, this
/// month) or custom dates. Anything unreadable falls back to the last 30 days, as a page should.</summary>
public sealed record DashboardRange(string Preset, DateOnly From, DateOnly To)
{
    public static readonly (string Key, string Label)[] Presets =
        [("today", "Today"), ("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("month", "This month")];

    public string Query => Preset == "custom" ? $"range=custom&from={From:yyyy-MM-dd}&to={To:yyyy-MM-dd}" : $"range={Preset}";

    public static DashboardRange Parse(IQueryCollection query, DateOnly today)
    {
        var preset = query["range"].ToString();
        if (preset == "custom" && MetricsRange.TryDate(query["from"], today, out var from) && MetricsRange.TryDate(query["to"], today, out var to)
            && MetricsRange.InWindow(from, today) && MetricsRange.InWindow(to, today)
            && from <= to && to.DayNumber - from.DayNumber < MetricsRange.MaxDays)
            return new DashboardRange("custom", from, to);
        return preset switch
        {
            "today" => new DashboardRange("today", today, today),
            "7" => new DashboardRange("7", today.AddDays(-6), today),
            "90" => new DashboardRange("90", today.AddDays(-89), today),
            "month" => new DashboardRange("month", new DateOnly(today.Year, today.Month, 1), today),
            _ => new DashboardRange("30", today.AddDays(-29), today),
        };
    }
}
