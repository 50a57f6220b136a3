using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Html;

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

    public static string Against(CompareChoice compare) => compare switch
    {
        CompareChoice.Previous => "the previous period",
        CompareChoice.Year => "the same period last year",
        _ => "",
    };

    private static HtmlString Span(string css, string shown, string spoken) => new(
        $"<span class=\"{css}\"><span aria-hidden=\"true\">{WebUtility.HtmlEncode(shown)}</span><span class=\"visually-hidden\">{WebUtility.HtmlEncode(spoken)}</span></span>");
}

/// <summary>The comparison a page shows, kept in the URL as <c>compare=previous|year</c> (anything else: none).</summary>
public enum CompareChoice { None, Previous, Year }

/// <summary>The comparison picker of the pages: its choices, how each is kept in the URL, and the range it compares with.</summary>
public static class CompareChoices
{
    public static readonly (string Key, string Label)[] All = [("", "No comparison"), ("previous", "Previous period"), ("year", "Same period last year")];

    /// <summary>A page forgives what it does not know (a link typed by hand): anything but previous or year is none.</summary>
    public static CompareChoice Parse(string? key) => key switch
    {
        "previous" => CompareChoice.Previous,
        "year" => CompareChoice.Year,
        _ => CompareChoice.None,
    };

    public static string Key(this CompareChoice choice) => choice switch
    {
        CompareChoice.Previous => "previous",
        CompareChoice.Year => "year",
        _ => "",
    };

    /// <summary>"&amp;compare=…" for a URL, or nothing without a comparison.</summary>
    public static string Query(this CompareChoice choice) => choice == CompareChoice.None ? "" : "&compare=" + choice.Key();

    public static Metrics.CompareWith? With(this CompareChoice choice) => choice switch
    {
        CompareChoice.Previous => Metrics.CompareWith.Previous,
        CompareChoice.Year => Metrics.CompareWith.Year,
        _ => null,
    };
}
