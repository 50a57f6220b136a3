using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetSummary
{
    public sealed record Response(
        string Currency, DateOnly From, DateOnly To, int Orders, decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales,
        decimal Shipping, decimal Taxes, decimal TotalSales, decimal AverageOrderValue,
        int Customers, int NewCustomers, int ReturningCustomers, decimal ReturningCustomerRate);

    public static async Task<Response> QueryAsync(XenoDb db, MetricsRange range, CancellationToken ct)
    {
        var days = await GetDaily.QueryAsync(db, range, ct);
        var (customers, fresh, returning) = await CustomerCounts.QueryAsync(db, range, ct);
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
