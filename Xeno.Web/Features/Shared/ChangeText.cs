using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Html;
using Xeno.Web.Features.Metrics;

namespace Xeno.Web.Features.Shared;

/// <summary>
/// A change against an earlier range as merchants read it: an arrow and a percentage, green for good news and red for bad
/// (returns going up is bad news), and the same in words for screen readers, so that colour is never the only signal.
/// </summary>
public static class ChangeText
{
    /// <param name="change">(this − earlier) ÷ earlier, null when there was nothing earlier to compare with.</param>
    /// <param name="upIsGood">false for figures such as returns, where a rise is bad news.</param>
    /// <param name="against">what the earlier range is, e.g. "the previous period".</param>
    public static IHtmlContent Render(decimal? change, bool upIsGood, string against)
    {
        if (change is not { } c)
            return Span("change none", "–", $"no figure for {against} to compare with");
        var percent = Math.Abs(c * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
        if (c == 0) return Span("change flat", "= 0.0%", $"unchanged from {against}");
        var up = c > 0;
        var good = up == upIsGood;
        return Span("change " + (good ? "good" : "bad"), (up ? "▲ " : "▼ ") + percent,
            $"{(up ? "up" : "down")} {percent} on {against}, {(good ? "good" : "bad")} news");
    }

    public static string Against(CompareWith? compare) => compare switch
    {
        CompareWith.Previous => "the previous period",
        CompareWith.Year => "the same period last year",
        _ => "",
    };

    private static HtmlString Span(string css, string shown, string spoken) => new(
        $"<span class=\"{css}\"><span aria-hidden=\"true\">{WebUtility.HtmlEncode(shown)}</span><span class=\"visually-hidden\">{WebUtility.HtmlEncode(spoken)}</span></span>");
}

/// <summary>The comparison picker of the pages, on the API's own <see cref="CompareWith"/> (null: no comparison): its
/// choices, and how the one shown is kept in the URL as <c>compare=previous|year</c>.</summary>
public static class CompareChoices
{
    public static readonly (string Key, string Label)[] All = [("", "No comparison"), ("previous", "Previous period"), ("year", "Same period last year")];

    /// <summary>The API's reading of <c>compare</c>; a page forgives what it does not know (a link typed by hand): none.</summary>
    public static CompareWith? Parse(string? key) => MetricsComparison.TryParse(key, out var compare) ? compare : null;

    public static string Key(this CompareWith? compare) => compare switch
    {
        CompareWith.Previous => "previous",
        CompareWith.Year => "year",
        _ => "",
    };

    /// <summary>"&amp;compare=…" for a URL, or nothing without a comparison.</summary>
    public static string Query(this CompareWith? compare) => compare is null ? "" : "&compare=" + compare.Key();
}
