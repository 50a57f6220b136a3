using Xeno.Web.Features.Metrics;

namespace Xeno.Web.Features.Dashboard;

/// <summary>The date range of the dashboard, kept in the URL: a preset (today, 7, 30, 90 days, this month) or custom
/// dates. An unknown preset falls back to the last 30 days; custom dates that cannot be shown (missing, reversed, too
/// far apart or out of bounds) keep what the merchant typed and carry an <see cref="Error"/> saying what is wrong.</summary>
public sealed record DashboardRange(string Preset, DateOnly From, DateOnly To)
{
    public static readonly (string Key, string Label)[] Presets =
        [("today", "Today"), ("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("month", "This month")];

    /// <summary>Why the custom dates asked for cannot be shown; null when they can.</summary>
    public string? Error { get; init; }

    /// <summary>The custom dates as the merchant typed them, kept in the form when they are invalid.</summary>
    public string FromInput { get; init; } = "";
    public string ToInput { get; init; } = "";

    public bool IsSingleDay => From == To;

    public string Query => Preset == "custom" ? $"range=custom&from={From:yyyy-MM-dd}&to={To:yyyy-MM-dd}" : $"range={Preset}";

    public static DashboardRange Parse(IQueryCollection query, DateOnly today)
    {
        var preset = query["range"].ToString();
        if (preset == "custom") return ParseCustom(query["from"].ToString(), query["to"].ToString(), today);
        return preset switch
        {
            "today" => new DashboardRange("today", today, today),
            "7" => new DashboardRange("7", today.AddDays(-6), today),
            "90" => new DashboardRange("90", today.AddDays(-89), today),
            "month" => new DashboardRange("month", new DateOnly(today.Year, today.Month, 1), today),
            _ => Last30(today),
        };
    }

    private static DashboardRange Last30(DateOnly today) => new("30", today.AddDays(-29), today);

    private static DashboardRange ParseCustom(string fromText, string toText, DateOnly today)
    {
        var error = Check(fromText, toText, today, out var from, out var to);
        return error is null
            ? new DashboardRange("custom", from, to) { FromInput = fromText, ToInput = toText }
            : Last30(today) with { Preset = "custom", Error = error, FromInput = fromText, ToInput = toText };
    }

    private static string? Check(string fromText, string toText, DateOnly today, out DateOnly from, out DateOnly to)
    {
        to = default;
        if (fromText.Length == 0 || toText.Length == 0 || !MetricsRange.TryDate(fromText, today, out from))
        {
            from = default;
            return fromText.Length == 0 || toText.Length == 0 ? "Pick both a start and an end date." : "The start date is not a date.";
        }
        if (!MetricsRange.TryDate(toText, today, out to)) return "The end date is not a date.";
        if (from > to) return $"The start date ({Formats.Date(from)}) is after the end date ({Formats.Date(to)}).";
        var days = to.DayNumber - from.DayNumber + 1;
        if (days > MetricsRange.MaxDays)
            return $"A range may span at most {MetricsRange.MaxDays} days; {Formats.Date(from)} to {Formats.Date(to)} spans {days}.";
        if (!MetricsRange.InWindow(from, today) || !MetricsRange.InWindow(to, today))
            return $"Dates must lie between {Formats.Date(MetricsRange.Earliest)} and {Formats.Date(MetricsRange.Latest(today))}.";
        return null;
    }
}
