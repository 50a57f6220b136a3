using System.Globalization;
using Xeno.ShopifyServer.Model;

namespace Xeno.Web.Tests.Metrics;

// The bodies API.md gives the metrics endpoints with `compare`, and of cohorts and the overview, field for field.

public sealed record SummaryComparedBody(
    string Currency, DateOnly From, DateOnly To, int Orders, decimal GrossSales, decimal Discounts, decimal Returns,
    decimal NetSales, decimal Shipping, decimal Taxes, decimal TotalSales, decimal AverageOrderValue, int Customers,
    int NewCustomers, int ReturningCustomers, decimal ReturningCustomerRate, SummaryComparison Comparison, SummaryChange Change);

public sealed record SummaryComparison(
    DateOnly From, DateOnly To, int Orders, decimal GrossSales, decimal Discounts, decimal Returns,
    decimal NetSales, decimal Shipping, decimal Taxes, decimal TotalSales, decimal AverageOrderValue, int Customers,
    int NewCustomers, int ReturningCustomers, decimal ReturningCustomerRate);

public sealed record SummaryChange(
    decimal? Orders, decimal? GrossSales, decimal? Discounts, decimal? Returns, decimal? NetSales, decimal? Shipping, decimal? Taxes,
    decimal? TotalSales, decimal? AverageOrderValue, decimal? Customers, decimal? NewCustomers, decimal? ReturningCustomers,
    decimal? ReturningCustomerRate);

public sealed record DailyComparedBody(string Currency, IReadOnlyList<DayRow> Days, DailyComparison Comparison);

public sealed record DailyComparison(DateOnly From, DateOnly To, IReadOnlyList<DayRow> Days);

public sealed record TopCustomersComparedBody(IReadOnlyList<TopCustomerComparedRow> Items);

public sealed record TopCustomerComparedRow(string CustomerId, string? Name, string? Email, int Orders, decimal NetSales, decimal ComparisonNetSales);

public sealed record ProductsComparedBody(IReadOnlyList<ProductComparedRow> Items);

public sealed record ProductComparedRow(
    string? ProductId, string Title, int UnitsSold, int UnitsReturned, decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales,
    decimal ComparisonNetSales);

public sealed record CheckoutsComparedBody(
    int Orders, int AbandonedCheckouts, decimal AbandonedValue, decimal ConversionRate, CheckoutsComparison Comparison, CheckoutsChange Change);

public sealed record CheckoutsComparison(DateOnly From, DateOnly To, int Orders, int AbandonedCheckouts, decimal AbandonedValue, decimal ConversionRate);

public sealed record CheckoutsChange(decimal? Orders, decimal? AbandonedCheckouts, decimal? AbandonedValue, decimal? ConversionRate);

public sealed record CohortsBody(DateOnly AsOf, IReadOnlyList<CohortRow> Cohorts);

public sealed record CohortRow(string Month, int Customers, IReadOnlyList<CohortPeriod> Periods);

public sealed record CohortPeriod(int Offset, int ActiveCustomers, decimal Retention, decimal NetSales, decimal CumulativeNetSalesPerCustomer, bool Partial);

public sealed record OverviewBody(IReadOnlyList<OverviewRow> Items, IReadOnlyList<OverviewTotal> Totals);

public sealed record OverviewRow(
    Guid StoreId, string ShopDomain, string Name, string Currency, int Orders, decimal NetSales, decimal TotalSales, decimal AverageOrderValue,
    OverviewChange? Change = null);

public sealed record OverviewChange(decimal? Orders, decimal? NetSales, decimal? TotalSales, decimal? AverageOrderValue);

public sealed record OverviewTotal(string Currency, int Stores, int Orders, decimal NetSales, decimal TotalSales);

public static partial class MetricsExpectations
{
    /// <summary>
    /// METRICS "Comparisons": the previous period of from..to (N days) is the N days ending the day before from; the same
    /// period last year is from − 1 year .. to − 1 year, 29 February becoming 28 February.
    /// </summary>
    public static (DateOnly From, DateOnly To) ComparisonRange(DateOnly from, DateOnly to, string compare)
    {
        static DateOnly YearBefore(DateOnly d) => d is { Month: 2, Day: 29 } ? new DateOnly(d.Year - 1, 2, 28) : new DateOnly(d.Year - 1, d.Month, d.Day);
        var days = to.DayNumber - from.DayNumber + 1;
        return compare switch
        {
            "previous" => (DateOnly.FromDayNumber(from.DayNumber - days), DateOnly.FromDayNumber(from.DayNumber - 1)),
            "year" => (YearBefore(from), YearBefore(to)),
            _ => throw new ArgumentException($"No comparison {compare}.", nameof(compare)),
        };
    }

    /// <summary>METRICS: change = (this − earlier) ÷ earlier, rounded to 4 decimals; null when the earlier figure is 0.
    /// Decided: of the figures as shown (rounded), so that a reader dividing the two numbers shown gets the same.</summary>
    public static decimal? Change(decimal current, decimal earlier) => earlier == 0 ? null : Rate((current - earlier) / earlier);

    public static SummaryComparedBody SummaryCompared(Shop shop, DateOnly from, DateOnly to, string compare)
    {
        var n = Summary(shop, from, to);
        var (cf, ct) = ComparisonRange(from, to, compare);
        var e = Summary(shop, cf, ct);
        return new SummaryComparedBody(n.Currency, n.From, n.To, n.Orders, n.GrossSales, n.Discounts, n.Returns, n.NetSales, n.Shipping, n.Taxes,
            n.TotalSales, n.AverageOrderValue, n.Customers, n.NewCustomers, n.ReturningCustomers, n.ReturningCustomerRate,
            new SummaryComparison(cf, ct, e.Orders, e.GrossSales, e.Discounts, e.Returns, e.NetSales, e.Shipping, e.Taxes, e.TotalSales,
                e.AverageOrderValue, e.Customers, e.NewCustomers, e.ReturningCustomers, e.ReturningCustomerRate),
            new SummaryChange(Change(n.Orders, e.Orders), Change(n.GrossSales, e.GrossSales), Change(n.Discounts, e.Discounts),
                Change(n.Returns, e.Returns), Change(n.NetSales, e.NetSales), Change(n.Shipping, e.Shipping), Change(n.Taxes, e.Taxes),
                Change(n.TotalSales, e.TotalSales), Change(n.AverageOrderValue, e.AverageOrderValue), Change(n.Customers, e.Customers),
                Change(n.NewCustomers, e.NewCustomers), Change(n.ReturningCustomers, e.ReturningCustomers),
                Change(n.ReturningCustomerRate, e.ReturningCustomerRate)));
    }

    public static DailyComparedBody DailyCompared(Shop shop, DateOnly from, DateOnly to, string compare)
    {
        var (cf, ct) = ComparisonRange(from, to, compare);
        var n = Daily(shop, from, to);
        return new DailyComparedBody(n.Currency, n.Days, new DailyComparison(cf, ct, Daily(shop, cf, ct).Days));
    }

    public static CheckoutsComparedBody CheckoutsCompared(Shop shop, DateOnly from, DateOnly to, string compare)
    {
        var (cf, ct) = ComparisonRange(from, to, compare);
        var n = Checkouts(shop, from, to);
        var e = Checkouts(shop, cf, ct);
        return new CheckoutsComparedBody(n.Orders, n.AbandonedCheckouts, n.AbandonedValue, n.ConversionRate,
            new CheckoutsComparison(cf, ct, e.Orders, e.AbandonedCheckouts, e.AbandonedValue, e.ConversionRate),
            new CheckoutsChange(Change(n.Orders, e.Orders), Change(n.AbandonedCheckouts, e.AbandonedCheckouts),
                Change(n.AbandonedValue, e.AbandonedValue), Change(n.ConversionRate, e.ConversionRate)));
    }

    /// <summary>The ranking of the range; each customer's net sales over the comparison range beside it (METRICS "Top
    /// customers": orders dated in it less returns dated in it on their orders; 0 when they had neither).</summary>
    public static IReadOnlyList<TopCustomerComparedRow> TopCustomersCompared(Shop shop, DateOnly from, DateOnly to, int limit, string compare)
    {
        var (cf, ct) = ComparisonRange(from, to, compare);
        var facts = Facts.Of(shop);
        var range = new DateRange(cf, ct);
        var earlier = new Dictionary<long, decimal>();
        foreach (var o in facts.OrdersIn(range).Where(o => o.CustomerId is not null))
            earlier[o.CustomerId!.Value] = earlier.GetValueOrDefault(o.CustomerId!.Value) + o.Gross - o.Discounts;
        foreach (var r in facts.RefundsIn(range).Where(r => r.Order.CustomerId is not null))
            earlier[r.Order.CustomerId!.Value] = earlier.GetValueOrDefault(r.Order.CustomerId!.Value) - r.Returns;
        return TopCustomers(shop, from, to, limit).Items
            .Select(i => new TopCustomerComparedRow(i.CustomerId, i.Name, i.Email, i.Orders, i.NetSales,
                Money(earlier.GetValueOrDefault(long.Parse(i.CustomerId, CultureInfo.InvariantCulture)))))
            .ToList();
    }

    public static IReadOnlyList<ProductComparedRow> ProductsCompared(Shop shop, DateOnly from, DateOnly to, int limit, string compare)
    {
        var (cf, ct) = ComparisonRange(from, to, compare);
        // The whole ranking of the comparison range holds every product's net sales in it.
        var earlier = Products(shop, cf, ct, int.MaxValue).Items.ToDictionary(p => p.ProductId ?? "", p => p.NetSales);
        return Products(shop, from, to, limit).Items
            .Select(p => new ProductComparedRow(p.ProductId, p.Title, p.UnitsSold, p.UnitsReturned, p.GrossSales, p.Discounts, p.Returns, p.NetSales,
                earlier.GetValueOrDefault(p.ProductId ?? "")))
            .ToList();
    }

    /// <summary>
    /// METRICS "Cohorts", customer by customer from the shop's own orders: a customer's cohort is the local month of their
    /// first counted order (numbered over their whole history; guests have none); for each month M + k up to asOf's, the
    /// cohort's customers with a counted order dated in it, and the (gross − discounts) of their orders dated in it less the
    /// returns of refunds dated in it on their orders. Only data on or before asOf counts; asOf's month is partial unless
    /// asOf is its last day.
    /// </summary>
    public static CohortsBody Cohorts(Shop shop, DateOnly asOf, int months = 12)
    {
        var facts = Facts.Of(shop);
        var upTo = new DateRange(DateOnly.MinValue, asOf);
        static DateOnly MonthOf(DateOnly d) => new(d.Year, d.Month, 1);
        var orders = facts.OrdersIn(upTo).Where(o => o.CustomerId is not null).ToList();
        var refunds = facts.RefundsIn(upTo).Where(r => r.Order.CustomerId is not null).ToList();
        var cohortOf = orders.Where(o => o.IsFirstOrder).ToDictionary(o => o.CustomerId!.Value, o => MonthOf(o.Date));

        var last = MonthOf(asOf);
        var first = last.AddMonths(1 - months);
        var partialMonth = asOf.AddDays(1).Day != 1;
        var cohorts = new List<CohortRow>();
        for (var month = first; month <= last; month = month.AddMonths(1))
        {
            var members = cohortOf.Where(c => c.Value == month).Select(c => c.Key).ToHashSet();
            var periods = new List<CohortPeriod>();
            var cumulative = 0m;
            for (var k = 0; month.AddMonths(k) <= last; k++)
            {
                var at = month.AddMonths(k);
                var dated = orders.Where(o => members.Contains(o.CustomerId!.Value) && MonthOf(o.Date) == at).ToList();
                var active = dated.Select(o => o.CustomerId).Distinct().Count();
                var net = dated.Sum(o => o.Gross - o.Discounts)
                    - refunds.Where(r => members.Contains(r.Order.CustomerId!.Value) && MonthOf(r.Date) == at).Sum(r => r.Returns);
                cumulative += net;
                periods.Add(new CohortPeriod(k, active, members.Count == 0 ? 0m : Rate((decimal)active / members.Count), Money(net),
                    members.Count == 0 ? 0m : Money(cumulative / members.Count), at == last && partialMonth));
            }
            cohorts.Add(new CohortRow(month.ToString("yyyy-MM", CultureInfo.InvariantCulture), members.Count, periods));
        }
        return new CohortsBody(asOf, cohorts);
    }

    /// <summary>API.md overview: each store's orders, net sales, total sales and AOV over the range (its summary's figures),
    /// their changes against the comparison range, and per currency the number of stores and the sums.</summary>
    public static OverviewBody Overview(IEnumerable<(Guid StoreId, Shop Shop)> stores, DateOnly from, DateOnly to, string? compare)
    {
        var items = new List<OverviewRow>();
        foreach (var (id, shop) in stores)
        {
            var s = Summary(shop, from, to);
            OverviewChange? change = null;
            if (compare is not null)
            {
                var (cf, ct) = ComparisonRange(from, to, compare);
                var e = Summary(shop, cf, ct);
                change = new OverviewChange(Change(s.Orders, e.Orders), Change(s.NetSales, e.NetSales), Change(s.TotalSales, e.TotalSales),
                    Change(s.AverageOrderValue, e.AverageOrderValue));
            }
            items.Add(new OverviewRow(id, shop.MyshopifyDomain, shop.Name, shop.CurrencyCode, s.Orders, s.NetSales, s.TotalSales, s.AverageOrderValue, change));
        }
        var totals = items.GroupBy(i => i.Currency).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new OverviewTotal(g.Key, g.Count(), g.Sum(i => i.Orders), g.Sum(i => i.NetSales), g.Sum(i => i.TotalSales)))
            .ToList();
        return new OverviewBody(items, totals);
    }
}
