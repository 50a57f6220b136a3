using System.Text.Json.Serialization;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

/// <summary>Sales per local date (METRICS.md "Sales"): orders on their processed date, returns, refunded
/// shipping and refunded tax on the refund's date, kept per day as the data lands (ShopAggregates). The summary is
/// these days added up.</summary>
public static class GetDaily
{
    public sealed record Day(DateOnly Date, int Orders, decimal GrossSales, decimal Discounts, decimal Returns, decimal Shipping, decimal Taxes)
    {
        public decimal NetSales => GrossSales - Discounts - Returns;
        public decimal TotalSales => NetSales + Shipping + Taxes;
    }

    public sealed record DayResponse(DateOnly Date, int Orders, decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales, decimal TotalSales);
    public sealed record Response(string Currency, IReadOnlyList<DayResponse> Days)
    {
        /// <summary>With <c>compare</c> only: the comparison range's days, day i beside day i of the range (a range holding
        /// 29 February, compared with the year before, has one day more than its comparison).</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public ComparisonDays? Comparison { get; init; }
    }

    public sealed record ComparisonDays(DateOnly From, DateOnly To, IReadOnlyList<DayResponse> Days);

    // From the per-day aggregates (ShopAggregates): one row per date, whatever the orders stored.
    private const string Sql = """
        WITH days AS (SELECT d::date AS day FROM generate_series(@from::date, @to::date, interval '1 day') d)
        SELECT days.day, coalesce(m.orders, 0), coalesce(m.gross, 0), coalesce(m.discounts, 0), coalesce(m.returns, 0),
               coalesce(m.shipping, 0) - coalesce(m.refunded_shipping, 0), coalesce(m.taxes, 0) - coalesce(m.refunded_taxes, 0)
        FROM days LEFT JOIN daily_metrics m ON m.tenant_id = @tenant AND m.day = days.day
        ORDER BY days.day
        """;

    /// <summary>One row per date of the range, zeros included: the cost grows with the days asked, not the orders stored.</summary>
    public static Task<List<Day>> QueryAsync(XenoDb db, MetricsRange range, CancellationToken ct) =>
        MetricsSql.QueryAsync(db, range, Sql, r => new Day(
            r.GetFieldValue<DateOnly>(0), (int)r.GetInt64(1), r.GetDecimal(2), r.GetDecimal(3), r.GetDecimal(4), r.GetDecimal(5), r.GetDecimal(6)),
            ct: ct);

    public static async Task<IResult> HandleApiAsync([AsParameters] RangeQuery query, HttpRequest request, XenoDb db, TenantContext tenant,
        TimeProvider clock, CancellationToken ct)
    {
        var (ask, error) = await MetricsRequest.ParseAsync(query, request, db, tenant, clock);
        if (ask is null) return error!;
        var body = new Response(ask.Range.Currency, Shown(await QueryAsync(db, ask.Range, ct)));
        if (ask.Comparison is { } earlier)
            body = body with { Comparison = new ComparisonDays(earlier.From, earlier.To, Shown(await QueryAsync(db, earlier, ct))) };
        return ask.Csv ? Csv(body, ask.Range) : TypedResults.Ok(body);
    }

    private static List<DayResponse> Shown(List<Day> days) => days.Select(d => new DayResponse(d.Date, d.Orders,
        Money.Round(d.GrossSales), Money.Round(d.Discounts), Money.Round(d.Returns), Money.Round(d.NetSales), Money.Round(d.TotalSales))).ToList();

    private static readonly string[] Fields = ["date", "orders", "grossSales", "discounts", "returns", "netSales", "totalSales"];

    /// <summary>One row per day; with compare, the comparison's day i in comparison… columns beside day i (empty where one
    /// list is a day shorter).</summary>
    private static MetricsCsv Csv(Response body, MetricsRange range)
    {
        var header = new List<string> { "currency" };
        header.AddRange(Fields);
        if (body.Comparison is not null) header.AddRange(Fields.Select(MetricsCsvNames.Comparison));
        var csv = new MetricsCsv(MetricsCsv.FileName(range, "daily"), header);
        var earlier = body.Comparison?.Days ?? [];
        for (var i = 0; i < Math.Max(body.Days.Count, earlier.Count); i++)
        {
            var cells = new List<object?> { body.Currency };
            cells.AddRange(Cells(i < body.Days.Count ? body.Days[i] : null));
            if (body.Comparison is not null) cells.AddRange(Cells(i < earlier.Count ? earlier[i] : null));
            csv.Row(cells.ToArray());
        }
        return csv;
    }

    private static object?[] Cells(DayResponse? d) => d is null
        ? new object?[Fields.Length]
        : [d.Date, d.Orders, d.GrossSales, d.Discounts, d.Returns, d.NetSales, d.TotalSales];
}
