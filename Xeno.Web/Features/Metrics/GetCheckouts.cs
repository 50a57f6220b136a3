using System.Text.Json.Serialization;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetCheckouts
{
    public sealed record Response(int Orders, int AbandonedCheckouts, decimal AbandonedValue, decimal ConversionRate)
    {
        /// <summary>With <c>compare</c> only: the same figures over the comparison range.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public ComparisonFigures? Comparison { get; init; }

        /// <summary>With <c>compare</c> only: each figure's change against the comparison range.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public Changes? Change { get; init; }
    }

    public sealed record ComparisonFigures(DateOnly From, DateOnly To, int Orders, int AbandonedCheckouts, decimal AbandonedValue, decimal ConversionRate);

    public sealed record Changes(decimal? Orders, decimal? AbandonedCheckouts, decimal? AbandonedValue, decimal? ConversionRate);

    // METRICS.md "Checkouts": created in the range, never completed (no completedAt, and no order carries the token),
    // not deleted; counted per day of creation as the data lands (ShopAggregates).
    private const string Sql = """
        SELECT coalesce(sum(orders), 0), coalesce(sum(abandoned_checkouts), 0), coalesce(sum(abandoned_value), 0)
        FROM daily_metrics WHERE tenant_id = @tenant AND day BETWEEN @from AND @to
        """;

    public static async Task<IResult> HandleApiAsync([AsParameters] RangeQuery query, HttpRequest request, XenoDb db, TenantContext tenant,
        TimeProvider clock, CancellationToken ct)
    {
        var (ask, error) = await MetricsRequest.ParseAsync(query, request, db, tenant, clock);
        if (ask is null) return error!;
        var body = await QueryAsync(db, ask.Range, ask.Comparison, ct);
        return ask.Csv ? Csv(body, ask.Range) : TypedResults.Ok(body);
    }

    /// <summary>The range's figures, and with a comparison range the same figures over it and each one's change.</summary>
    public static async Task<Response> QueryAsync(XenoDb db, MetricsRange range, MetricsRange? comparison, CancellationToken ct)
    {
        var body = await QueryAsync(db, range, ct);
        if (comparison is null) return body;
        var then = await QueryAsync(db, comparison, ct);
        static decimal? C(decimal a, decimal b) => MetricsComparison.Change(a, b);
        return body with
        {
            Comparison = new ComparisonFigures(comparison.From, comparison.To, then.Orders, then.AbandonedCheckouts, then.AbandonedValue, then.ConversionRate),
            Change = new Changes(C(body.Orders, then.Orders), C(body.AbandonedCheckouts, then.AbandonedCheckouts),
                C(body.AbandonedValue, then.AbandonedValue), C(body.ConversionRate, then.ConversionRate)),
        };
    }

    public static async Task<Response> QueryAsync(XenoDb db, MetricsRange range, CancellationToken ct)
    {
        var (orders, abandoned, value) = (await MetricsSql.QueryAsync(db, range, Sql,
            r => ((int)r.GetInt64(0), (int)r.GetInt64(1), r.GetDecimal(2)), ct: ct)).Single();
        return new Response(orders, abandoned, Money.Round(value), Money.Rate(orders, orders + abandoned));
    }

    private static readonly string[] Figures = ["orders", "abandonedCheckouts", "abandonedValue", "conversionRate"];

    /// <summary>One row: the figures, then (with compare) comparisonFrom, comparisonTo, comparison… and change… columns.</summary>
    private static MetricsCsv Csv(Response r, MetricsRange range)
    {
        var header = new List<string>(Figures);
        var cells = new List<object?> { r.Orders, r.AbandonedCheckouts, r.AbandonedValue, r.ConversionRate };
        if (r is { Comparison: { } e, Change: { } c })
        {
            header.AddRange(["comparisonFrom", "comparisonTo"]);
            header.AddRange(Figures.Select(MetricsCsvNames.Comparison));
            header.AddRange(Figures.Select(MetricsCsvNames.Change));
            cells.AddRange([e.From, e.To, e.Orders, e.AbandonedCheckouts, e.AbandonedValue, e.ConversionRate,
                c.Orders, c.AbandonedCheckouts, c.AbandonedValue, c.ConversionRate]);
        }
        return new MetricsCsv(MetricsCsv.FileName(range, "checkouts"), header).Row(cells.ToArray());
    }
}
