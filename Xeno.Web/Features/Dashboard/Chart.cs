using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Html;
using Xeno.Web.Features.Metrics;
using Xeno.Web.Features.Shared;

namespace Xeno.Web.Features.Dashboard;

/// <summary>One bar of the chart: what the readout calls it, its figures, and the label of its tick on the x axis (null
/// for none; minor ticks give way on narrow screens). With a comparison, the comparison range's point at the same place
/// (day i beside day i; none where the comparison range is a day shorter, across 29 February).</summary>
public sealed record ChartPoint(string Name, int Orders, decimal NetSales, string? Tick = null, bool MinorTick = false)
{
    public string? EarlierName { get; init; }
    public decimal? EarlierNetSales { get; init; }
}

/// <summary>
/// Net sales per day (or per hour of a single day), drawn on the server as SVG with a y axis in the shop's currency at
/// round figures and an x axis of dates at round intervals; bars below zero where returns outweigh sales. Hovering,
/// touching or focusing the chart (then the arrow keys) shows a point's figures, through /js/chart.js; without script
/// the table underneath carries the same figures, and it stays for screen readers. Orders are in the readout and the
/// table rather than on a second scale, which charts read at a glance do without.
/// </summary>
public static class Chart
{
    private const int Top = 10, Plot = 160, Height = Top + Plot + 26;

    public static IReadOnlyList<ChartPoint> Days(IReadOnlyList<GetDaily.Day> days, IReadOnlyList<GetDaily.Day>? earlier = null)
    {
        var ticks = DayTicks(days.Select(d => d.Date).ToList());
        return days.Select((d, i) => new ChartPoint(Formats.Date(d.Date), d.Orders, d.NetSales,
            ticks.TryGetValue(i, out var t) ? t.Label : null, ticks.TryGetValue(i, out t) && t.Minor)
        {
            EarlierName = earlier?.ElementAtOrDefault(i) is { } e ? Formats.Date(e.Date) : null,
            EarlierNetSales = earlier?.ElementAtOrDefault(i)?.NetSales,
        }).ToList();
    }

    public static IReadOnlyList<ChartPoint> Hours(DateOnly date, IReadOnlyList<GetHourly.Hour> hours, IReadOnlyList<GetHourly.Hour>? earlier = null,
        DateOnly? earlierDate = null) =>
        hours.Select((h, i) => new ChartPoint(HourName(date, h.Of), h.Orders, h.NetSales, h.Of % 3 == 0 ? $"{h.Of:00}:00" : null, h.Of % 6 != 0)
        {
            EarlierName = earlier?.ElementAtOrDefault(i) is { } e && earlierDate is { } d ? HourName(d, e.Of) : null,
            EarlierNetSales = earlier?.ElementAtOrDefault(i)?.NetSales,
        }).ToList();

    private static string HourName(DateOnly date, int hour) => $"{Formats.Date(date)}, {hour:00}:00–{(hour + 1) % 24:00}:00";

    /// <summary>Round intervals for dates: every day of a short range, Mondays within two months, first days of months
    /// within a year, first days of quarters beyond; every other tick is minor when there are many.</summary>
    private static Dictionary<int, (string Label, bool Minor)> DayTicks(List<DateOnly> dates)
    {
        var n = dates.Count;
        var inv = CultureInfo.InvariantCulture;
        var picked = new List<(int Index, string Label)>();
        for (var i = 0; i < n; i++)
        {
            var d = dates[i];
            if (n <= 10) picked.Add((i, d.ToString("d MMM", inv)));
            else if (n <= 62) { if (d.DayOfWeek == DayOfWeek.Monday) picked.Add((i, d.ToString("d MMM", inv))); }
            else if (n <= 366) { if (d.Day == 1) picked.Add((i, d.ToString(d.Month == 1 || picked.Count == 0 ? "MMM yyyy" : "MMM", inv))); }
            else if (d.Day == 1 && (d.Month - 1) % 3 == 0) picked.Add((i, d.ToString("MMM yyyy", inv)));
        }
        var many = picked.Count > 4;
        return picked.Select((t, k) => (t, k)).ToDictionary(x => x.t.Index, x => (x.t.Label, many && x.k % 2 == 1));
    }

    /// <param name="compare">With a comparison, its range is drawn as a faint line over the bars.</param>
    public static IHtmlContent Render(string id, IReadOnlyList<ChartPoint> points, string currency, string unit, CompareWith? compare = null)
    {
        static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        string M(decimal v) => WebUtility.HtmlEncode(Formats.Money(v, currency));
        string Readout(ChartPoint p) => $"{p.Name}: {Formats.Money(p.NetSales, currency)} net sales, {Formats.Count(p.Orders, "order", "orders")}"
            + (p.EarlierNetSales is { } e ? $"; {p.EarlierName}: {Formats.Money(e, currency)}" : "");

        var compared = compare is not null && points.Any(p => p.EarlierNetSales is not null);
        var against = ChangeText.Against(compare);
        var values = points.Select(p => p.NetSales).Concat(points.Select(p => p.EarlierNetSales).OfType<decimal>()).ToList();
        var (ticks, lo, hi) = YTicks(values.Count == 0 ? 0 : values.Min(), values.Count == 0 ? 0 : values.Max());
        double Y(decimal v) => Top + (double)((hi - v) / (hi - lo)) * Plot;
        var whole = ticks.All(t => t == decimal.Truncate(t));
        var labels = ticks.Select(t => Formats.Money(t, currency, whole)).ToList();
        var axisWidth = labels.Max(l => l.Length) * 7 + 12;
        var n = Math.Max(1, points.Count);
        var zero = Y(0);
        var totalSales = points.Sum(p => p.NetSales);
        var totalOrders = points.Sum(p => p.Orders);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<figure class=\"chart\" id=\"{id}\" data-chart>");
        svg.Append("<div class=\"chart-frame\">");
        // The y axis: its own SVG of a fixed width, so that its labels keep their size however wide the plot is.
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"y-axis\" width=\"{axisWidth}\" height=\"{Height}\" aria-hidden=\"true\">");
        for (var k = 0; k < ticks.Count; k++)
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{axisWidth - 6}\" y=\"{F(Y(ticks[k]) + 4)}\" text-anchor=\"end\">{WebUtility.HtmlEncode(labels[k])}</text>");
        svg.Append("</svg>");

        var summary = $"Net sales per {unit}: {Formats.Money(totalSales, currency)} and {Formats.Count(totalOrders, "order", "orders")} over {Formats.Count(points.Count, unit, unit + "s")}. Use the arrow keys to read each {unit}.";
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"plot\" width=\"100%\" height=\"{Height}\" tabindex=\"0\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(summary)}\" aria-describedby=\"{id}-readout\">");
        foreach (var t in ticks)
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"{(t == 0 ? "zero" : "grid")}\" x1=\"0\" x2=\"100%\" y1=\"{F(Y(t))}\" y2=\"{F(Y(t))}\" />");
        // The bars: one unit of width per point, stretched to the plot's width; heights in pixels as drawn.
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"bars\" y=\"{Top}\" width=\"100%\" height=\"{Plot}\" viewBox=\"0 0 {n} {Plot}\" preserveAspectRatio=\"none\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"cursor\" x=\"0\" y=\"0\" width=\"1\" height=\"{Plot}\" />");
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            var y = Y(p.NetSales);
            var (y0, h) = p.NetSales >= 0 ? (y, zero - y) : (zero, y - zero);
            svg.Append(CultureInfo.InvariantCulture,
                $"<rect class=\"bar{(p.NetSales < 0 ? " negative" : "")}\" data-readout=\"{WebUtility.HtmlEncode(Readout(p))}\" x=\"{F(i + 0.12)}\" y=\"{F(y0 - Top)}\" width=\"0.76\" height=\"{F(h)}\" />");
        }
        if (compared)
        {
            // The comparison range as a faint line through the middle of each bar's place; the stroke keeps its width
            // however far the plot is stretched.
            var line = string.Join(" ", points.Select((p, i) => (p, i)).Where(x => x.p.EarlierNetSales is not null)
                .Select(x => $"{F(x.i + 0.5)},{F(Y(x.p.EarlierNetSales!.Value) - Top)}"));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline class=\"earlier\" points=\"{line}\" vector-effect=\"non-scaling-stroke\" />");
        }
        svg.Append("</svg>");
        for (var i = 0; i < points.Count; i++)
        {
            if (points[i].Tick is not { } tick) continue;
            svg.Append(CultureInfo.InvariantCulture,
                $"<text class=\"tick{(points[i].MinorTick ? " minor" : "")}\" x=\"{F((i + 0.5) * 100.0 / n)}%\" y=\"{Height - 6}\" text-anchor=\"middle\">{WebUtility.HtmlEncode(tick)}</text>");
        }
        svg.Append("</svg></div>");

        svg.Append(CultureInfo.InvariantCulture, $"<figcaption><p class=\"readout\" id=\"{id}-readout\" aria-live=\"polite\">Point at {(unit == "hour" ? "an" : "a")} {unit}, or focus the chart and use the arrow keys, to read its figures.</p>");
        svg.Append("<p class=\"legend\"><span class=\"swatch bar\"></span> net sales");
        if (points.Any(p => p.NetSales < 0)) svg.Append(" <span class=\"swatch negative\"></span> below zero: returns outweighed sales");
        if (compared) svg.Append(CultureInfo.InvariantCulture, $" <span class=\"swatch earlier\"></span> net sales, {WebUtility.HtmlEncode(against)}");
        svg.Append("</p></figcaption></figure>");

        var head = char.ToUpperInvariant(unit[0]) + unit[1..];
        svg.Append(CultureInfo.InvariantCulture, $"<details><summary>Figures per {unit}</summary><table><thead><tr><th scope=\"col\">{head}</th><th scope=\"col\" class=\"num\">Orders</th><th scope=\"col\" class=\"num\">Net sales</th>");
        // The comparison's net sales beside each day (its own day i, named in the readout): one column more, so that
        // the table still fits a phone.
        if (compared)
            svg.Append(CultureInfo.InvariantCulture, $"<th scope=\"col\" class=\"num\">{(compare == CompareWith.Year ? "Last year" : "Previous period")}</th>");
        svg.Append("</tr></thead><tbody>");
        foreach (var p in points)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(p.Name)}</td><td class=\"num\">{p.Orders}</td><td class=\"num\">{M(p.NetSales)}</td>");
            if (compared)
                svg.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{(p.EarlierNetSales is { } e ? M(e) : "–")}</td>");
            svg.Append("</tr>");
        }
        svg.Append("</tbody></table></details>");
        return new HtmlString(svg.ToString());
    }

    /// <summary>Round figures for the y axis: a step of 1, 2 or 5 times a power of ten, about four of them, from a
    /// multiple of it at or below the lowest value (and zero) to one at or above the highest.</summary>
    public static (List<decimal> Ticks, decimal Lo, decimal Hi) YTicks(decimal min, decimal max)
    {
        var (lo, hi) = (Math.Min(0, min), Math.Max(0, max));
        if (hi == lo) hi = 10;
        var rough = (double)(hi - lo) / 4;
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var fraction = rough / power;
        var step = (decimal)((fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power);
        var first = Math.Floor(lo / step) * step;
        var last = Math.Ceiling(hi / step) * step;
        var ticks = new List<decimal>();
        for (var t = first; t <= last; t += step) ticks.Add(t);
        return (ticks, first, last);
    }
}
