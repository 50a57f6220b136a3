using System.Text.Json.Serialization;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetSummary
{
    public sealed record Response(
        string Currency, DateOnly From, DateOnly To, int Orders, decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales,
        decimal Shipping, decimal Taxes, decimal TotalSales, decimal AverageOrderValue,
        int Customers, int NewCustomers, int ReturningCustomers, decimal ReturningCustomerRate)
    {
        /// <summary>With <c>compare</c> only: the same figures over the comparison range.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public ComparisonFigures? Comparison { get; init; }

        /// <summary>With <c>compare</c> only: each figure's change against the comparison range.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public Changes? Change { get; init; }
    }

    public sealed record ComparisonFigures(
        DateOnly From, DateOnly To, int Orders, decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales,
        decimal Shipping, decimal Taxes, decimal TotalSales, decimal AverageOrderValue,
        int Customers, int NewCustomers, int ReturningCustomers, decimal ReturningCustomerRate);

    /// <summary>(this − earlier) ÷ earlier per figure; null where the earlier figure is 0.</summary>
    public sealed record Changes(
        decimal? Orders, decimal? GrossSales, decimal? Discounts, decimal? Returns, decimal? NetSales,
        decimal? Shipping, decimal? Taxes, decimal? TotalSales, decimal? AverageOrderValue,
        decimal? Customers, decimal? NewCustomers, decimal? ReturningCustomers, decimal? ReturningCustomerRate);

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

    /// <summary>The range's figures, and with a comparison range the same figures over it and each one's change.</summary>
    public static async Task<Response> QueryAsync(XenoDb db, MetricsRange range, MetricsRange? comparison, CancellationToken ct)
    {
        var now = await QueryAsync(db, range, ct);
        if (comparison is null) return now;
        var then = await QueryAsync(db, comparison, ct);
        static decimal? C(decimal a, decimal b) => MetricsComparison.Change(a, b);
        return now with
        {
            Comparison = new ComparisonFigures(then.From, then.To, then.Orders, then.GrossSales, then.Discounts, then.Returns, then.NetSales,
                then.Shipping, then.Taxes, then.TotalSales, then.AverageOrderValue, then.Customers, then.NewCustomers, then.ReturningCustomers,
                then.ReturningCustomerRate),
            Change = new Changes(C(now.Orders, then.Orders), C(now.GrossSales, then.GrossSales), C(now.Discounts, then.Discounts),
                C(now.Returns, then.Returns), C(now.NetSales, then.NetSales), C(now.Shipping, then.Shipping), C(now.Taxes, then.Taxes),
                C(now.TotalSales, then.TotalSales), C(now.AverageOrderValue, then.AverageOrderValue), C(now.Customers, then.Customers),
                C(now.NewCustomers, then.NewCustomers), C(now.ReturningCustomers, then.ReturningCustomers),
                C(now.ReturningCustomerRate, then.ReturningCustomerRate)),
        };
    }

    public static async Task<IResult> HandleApiAsync([AsParameters] RangeQuery query, HttpRequest request, XenoDb db, TenantContext tenant,
        TimeProvider clock, CancellationToken ct)
    {
        var (ask, error) = await MetricsRequest.ParseAsync(query, request, db, tenant, clock);
        if (ask is null) return error!;
        var body = await QueryAsync(db, ask.Range, ask.Comparison, ct);
        return ask.Csv ? Csv(body, ask.Range) : TypedResults.Ok(body);
    }

    private static readonly string[] Figures =
    [
        "orders", "grossSales", "discounts", "returns", "netSales", "shipping", "taxes", "totalSales", "averageOrderValue",
        "customers", "newCustomers", "returningCustomers", "returningCustomerRate",
    ];

    /// <summary>One row: the figures, then (with compare) comparisonFrom, comparisonTo, comparison… and change… columns.</summary>
    private static MetricsCsv Csv(Response r, MetricsRange range)
    {
        var header = new List<string> { "currency", "from", "to" };
        header.AddRange(Figures);
        var cells = new List<object?> { r.Currency, r.From, r.To, r.Orders, r.GrossSales, r.Discounts, r.Returns, r.NetSales, r.Shipping,
            r.Taxes, r.TotalSales, r.AverageOrderValue, r.Customers, r.NewCustomers, r.ReturningCustomers, r.ReturningCustomerRate };
        if (r is { Comparison: { } e, Change: { } c })
        {
            header.AddRange(["comparisonFrom", "comparisonTo"]);
            header.AddRange(Figures.Select(MetricsCsvNames.Comparison));
            header.AddRange(Figures.Select(MetricsCsvNames.Change));
            cells.AddRange([e.From, e.To, e.Orders, e.GrossSales, e.Discounts, e.Returns, e.NetSales, e.Shipping, e.Taxes, e.TotalSales,
                e.AverageOrderValue, e.Customers, e.NewCustomers, e.ReturningCustomers, e.ReturningCustomerRate]);
            cells.AddRange([c.Orders, c.GrossSales, c.Discounts, c.Returns, c.NetSales, c.Shipping, c.Taxes, c.TotalSales,
                c.AverageOrderValue, c.Customers, c.NewCustomers, c.ReturningCustomers, c.ReturningCustomerRate]);
        }
        return new MetricsCsv(MetricsCsv.FileName(range, "summary"), header).Row(cells.ToArray());
    }
}
