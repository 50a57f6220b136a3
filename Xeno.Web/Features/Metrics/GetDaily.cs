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
    public sealed record Response(string Currency, IReadOnlyList<DayResponse> Days);

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

    public static async Task<IResult> HandleApiAsync(HttpRequest request, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var (range, error) = await MetricsRange.ParseAsync(request, db, tenant, clock);
        if (range is null) return error!;
        var days = await QueryAsync(db, range, ct);
        return TypedResults.Ok(new Response(range.Currency, days.Select(d => new DayResponse(d.Date, d.Orders,
            Money.Round(d.GrossSales), Money.Round(d.Discounts), Money.Round(d.Returns), Money.Round(d.NetSales), Money.Round(d.TotalSales))).ToList()));
    }
}
