using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Html;
using Xeno.Web.Features.Metrics;

namespace Xeno.Web.Features.Dashboard;

/// <summary>The daily chart, drawn on the server as SVG: bars for net sales, a line for orders. No
/// script and nothing from a CDN; a table underneath carries the same figures for screen readers.</summary>
public static class Chart
{
    private const int Width = 720, Height = 200, Pad = 24;

    public static IHtmlContent Render(IReadOnlyList<GetDaily.Day> days, string currency)
    {
        var maxSales = Math.Max(1m, days.Max(d => Math.Max(0, d.NetSales)));
        var maxOrders = Math.Max(1, days.Max(d => d.Orders));
        var step = (Width - 2.0 * Pad) / Math.Max(1, days.Count);
        var svg = new StringBuilder();
        var total = days.Sum(d => d.Orders);
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-labelledby=\"chart-title\" preserveAspectRatio=\"none\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title id=\"chart-title\">{total} orders and {WebUtility.HtmlEncode(Formats.Money(days.Sum(d => d.NetSales), currency))} net sales over {days.Count} days</title>");
        var points = new List<string>();
        for (var i = 0; i < days.Count; i++)
        {
            var d = days[i];
            var x = Pad + i * step;
            var h = (double)(Math.Max(0, d.NetSales) / maxSales) * (Height - 2 * Pad);
            svg.Append(CultureInfo.InvariantCulture,
                $"<rect class=\"bar\" x=\"{x + step * 0.1:0.##}\" y=\"{Height - Pad - h:0.##}\" width=\"{Math.Max(1, step * 0.8):0.##}\" height=\"{h:0.##}\"><title>{d.Date:yyyy-MM-dd}: {WebUtility.HtmlEncode(Formats.Money(d.NetSales, currency))}, {d.Orders} orders</title></rect>");
            points.Add(FormattableString.Invariant($"{x + step / 2:0.##},{Height - Pad - (double)d.Orders / maxOrders * (Height - 2 * Pad):0.##}"));
        }
        svg.Append(CultureInfo.InvariantCulture, $"<polyline class=\"line\" fill=\"none\" points=\"{string.Join(' ', points)}\" />");
        svg.Append("</svg>");
        svg.Append("<p class=\"legend\"><span class=\"swatch bar\"></span> net sales <span class=\"swatch line\"></span> orders</p>");
        svg.Append("<details><summary>Figures per day</summary><table><thead><tr><th scope=\"col\">Date</th><th scope=\"col\" class=\"num\">Orders</th><th scope=\"col\" class=\"num\">Net sales</th></tr></thead><tbody>");
        foreach (var d in days)
            svg.Append(CultureInfo.InvariantCulture, $"<tr><td>{d.Date:yyyy-MM-dd}</td><td class=\"num\">{d.Orders}</td><td class=\"num\">{WebUtility.HtmlEncode(Formats.Money(d.NetSales, currency))}</td></tr>");
        svg.Append("</tbody></table></details>");
        return new HtmlString(svg.ToString());
    }
}
