using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetCheckouts
{
    public sealed record Response(int Orders, int AbandonedCheckouts, decimal AbandonedValue, decimal ConversionRate);

    // METRICS.md "Checkouts": created in the range, never completed (no completedAt, and no order carries the token),
    // not deleted; counted per day of creation as the data lands (ShopAggregates).
    private const string Sql = """
        SELECT coalesce(sum(orders), 0), coalesce(sum(abandoned_checkouts), 0), coalesce(sum(abandoned_value), 0)
        FROM daily_metrics WHERE tenant_id = @tenant AND day BETWEEN @from AND @to
        """;

    public static async Task<IResult> HandleApiAsync(HttpRequest request, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var (range, error) = await MetricsRange.ParseAsync(request, db, tenant, clock);
        return range is null ? error! : TypedResults.Ok(await QueryAsync(db, range, ct));
    }

    public static async Task<Response> QueryAsync(XenoDb db, MetricsRange range, CancellationToken ct)
    {
        var (orders, abandoned, value) = (await MetricsSql.QueryAsync(db, range, Sql,
            r => ((int)r.GetInt64(0), (int)r.GetInt64(1), r.GetDecimal(2)), ct: ct)).Single();
        return new Response(orders, abandoned, Money.Round(value), Money.Rate(orders, orders + abandoned));
    }
}
