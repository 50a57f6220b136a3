using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetSummary
{
    public sealed record Response(
        string Currency, DateOnly From, DateOnly To, int Orders, decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales,
        decimal Shipping, decimal Taxes, decimal TotalSales, decimal AverageOrderValue,
        int Customers, int NewCustomers, int ReturningCustomers, decimal ReturningCustomerRate);

    // METRICS.md "Customers": each customer's counted orders numbered by processedAt (ties by id) over
    // their whole history; the first is new, later ones repeat.
    private const string CustomersSql = $$"""
        WITH {{MetricsSql.Bounds}},
        o AS (
          SELECT o.id, o.customer_id FROM orders o, bounds
          WHERE o.tenant_id = @tenant AND NOT o.test AND o.deleted_at IS NULL AND o.customer_id IS NOT NULL
            AND o.processed_at >= bounds.lo AND o.processed_at < bounds.hi),
        numbered AS (
          SELECT x.id, row_number() OVER (PARTITION BY x.customer_id ORDER BY x.processed_at, x.id) AS n
          FROM orders x
          WHERE x.tenant_id = @tenant AND NOT x.test AND x.deleted_at IS NULL AND x.customer_id IN (SELECT customer_id FROM o))
        SELECT count(DISTINCT o.customer_id),
               count(DISTINCT o.customer_id) FILTER (WHERE numbered.n = 1),
               count(DISTINCT o.customer_id) FILTER (WHERE numbered.n > 1)
        FROM o JOIN numbered ON numbered.id = o.id
        """;

    public static async Task<Response> QueryAsync(XenoDb db, MetricsRange range, CancellationToken ct)
    {
        var days = await GetDaily.QueryAsync(db, range, ct);
        var (customers, fresh, returning) = (await MetricsSql.QueryAsync(db, range, CustomersSql,
            r => ((int)r.GetInt64(0), (int)r.GetInt64(1), (int)r.GetInt64(2)), ct: ct)).Single();
        var orders = days.Sum(d => d.Orders);
        var gross = days.Sum(d => d.GrossSales);
        var discounts = days.Sum(d => d.Discounts);
        var returns = days.Sum(d => d.Returns);
        var shipping = days.Sum(d => d.Shipping);
        var taxes = days.Sum(d => d.Taxes);
        var net = gross - discounts - returns;
        return new Response(range.Currency, range.From, range.To, orders, Money.Round(gross), Money.Round(discounts), Money.Round(returns),
            Money.Round(net), Money.Round(shipping), Money.Round(taxes), Money.Round(net + shipping + taxes),
            orders == 0 ? 0 : Money.Round((gross - discounts) / orders),
            customers, fresh, returning, Money.Rate(returning, customers));
    }

    public static async Task<IResult> HandleApiAsync(HttpRequest request, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var (range, error) = await MetricsRange.ParseAsync(request, db, tenant, clock);
        return range is null ? error! : TypedResults.Ok(await QueryAsync(db, range, ct));
    }
}
