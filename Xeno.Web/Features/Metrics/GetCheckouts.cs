using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetCheckouts
{
    public sealed record Response(int Orders, int AbandonedCheckouts, decimal AbandonedValue, decimal ConversionRate);

    // METRICS.md "Checkouts": created in the range, never completed (no completedAt, and no order carries
    // the token), not deleted.
    private const string Sql = $$"""
        WITH {{MetricsSql.Bounds}}
        SELECT
          (SELECT count(*) FROM orders o, bounds
            WHERE o.tenant_id = @tenant AND NOT o.test AND o.deleted_at IS NULL AND o.processed_at >= bounds.lo AND o.processed_at < bounds.hi),
          count(c.id), coalesce(sum(c.total_price), 0)
        FROM bounds LEFT JOIN checkouts c
          ON c.tenant_id = @tenant AND c.created_at >= bounds.lo AND c.created_at < bounds.hi
         AND c.completed_at IS NULL AND c.deleted_at IS NULL
         AND NOT (c.token IS NOT NULL AND EXISTS (
               SELECT 1 FROM orders t WHERE t.tenant_id = @tenant AND t.checkout_token = c.token AND t.deleted_at IS NULL))
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
