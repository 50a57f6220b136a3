using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;

namespace Xeno.Web.Tests.Metrics;

// The bodies of API.md's metrics endpoints, field for field (System.Text.Json's web defaults map them to
// camelCase), so that a response deserializes straight into the record the expectation is made of.
// Shopify ids are strings in the JSON (they exceed 2^53), hence string ids here.

public sealed record SummaryBody(
    string Currency, DateOnly From, DateOnly To, int Orders, decimal GrossSales, decimal Discounts, decimal Returns,
    decimal NetSales, decimal Shipping, decimal Taxes, decimal TotalSales, decimal AverageOrderValue, int Customers,
    int NewCustomers, int ReturningCustomers, decimal ReturningCustomerRate);

public sealed record DailyBody(string Currency, IReadOnlyList<DayRow> Days);

public sealed record DayRow(DateOnly Date, int Orders, decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales, decimal TotalSales);

public sealed record TopCustomersBody(IReadOnlyList<TopCustomerRow> Items);

public sealed record TopCustomerRow(string CustomerId, string? Name, string? Email, int Orders, decimal NetSales);

public sealed record ProductsBody(IReadOnlyList<ProductRow> Items);

public sealed record ProductRow(
    string? ProductId, string Title, int UnitsSold, int UnitsReturned, decimal GrossSales, decimal Discounts, decimal Returns, decimal NetSales);

public sealed record CheckoutsBody(int Orders, int AbandonedCheckouts, decimal AbandonedValue, decimal ConversionRate);

public sealed record SegmentsBody(DateOnly AsOf, IReadOnlyList<SegmentRow> Segments, int Prospects, IReadOnlyList<RfmRow> Rfm);

public sealed record SegmentRow(string Name, int Customers, decimal NetSales);

public sealed record RfmRow(string Group, int Customers);

/// <summary>A product as it was before <see cref="Shop.DeleteProduct"/> cut its lines loose (see <see cref="MetricsExpectations.CaptureLineProducts"/>).</summary>
public sealed record FormerProduct(long ProductId, string Title);

/// <summary>
/// What Xeno's metrics endpoints must answer, computed independently from the Shopify-compatible server's
/// own in-memory model, rule by rule from shared/spec/METRICS.md (quoted as "METRICS: …" where a rule is
/// subtle). Nothing here reads Xeno's code or database: the two sides meet only in the tests' comparisons.
/// Amounts are summed exactly in decimal and rounded only in the returned records.
/// </summary>
public static partial class MetricsExpectations
{
    /// <summary>API.md: a range of more than 731 days (to − from + 1) is refused with 400; the expectations refuse it too.</summary>
    public const int MaxRangeDays = 731;

    /// <summary>The row of line items without a product. METRICS: grouped as one row with `productId: null` and title "Custom items".</summary>
    public const string CustomItemsTitle = "Custom items";

    public static readonly IReadOnlyList<string> SegmentNames = ["VIP", "Regular", "New"];

    public static SummaryBody Summary(Shop shop, DateOnly from, DateOnly to)
    {
        var facts = Facts.Of(shop);
        var range = DateRange.Checked(from, to);
        var orders = facts.OrdersIn(range).ToList();
        var refunds = facts.RefundsIn(range).ToList();

        var gross = orders.Sum(o => o.Gross);
        var discounts = orders.Sum(o => o.Discounts);
        var returns = refunds.Sum(r => r.Returns);
        var net = gross - discounts - returns;
        // METRICS: shipping (in a range) = shipping of orders dated in it − refunded shipping of refunds dated in it.
        var shipping = orders.Sum(o => o.Shipping) - refunds.Sum(r => r.RefundedShipping);
        var taxes = orders.Sum(o => o.Taxes) - refunds.Sum(r => r.RefundedTax);
        // METRICS: average order value = (gross sales − discounts) ÷ orders; returns do not lower it.
        var aov = orders.Count == 0 ? 0m : (gross - discounts) / orders.Count;

        var customers = orders.Where(o => o.CustomerId is not null).Select(o => o.CustomerId!.Value).ToHashSet();
        // METRICS: a customer can be both new and returning in one range.
        var newCustomers = orders.Where(o => o.CustomerId is not null && o.IsFirstOrder).Select(o => o.CustomerId).Distinct().Count();
        var returning = orders.Where(o => o.CustomerId is not null && !o.IsFirstOrder).Select(o => o.CustomerId).Distinct().Count();

        return new SummaryBody(
            shop.CurrencyCode, from, to, orders.Count, Money(gross), Money(discounts), Money(returns), Money(net),
            Money(shipping), Money(taxes), Money(net + shipping + taxes), Money(aov), customers.Count, newCustomers, returning,
            customers.Count == 0 ? 0m : Rate((decimal)returning / customers.Count));
    }

    /// <summary>API.md: one entry per date of the range, zeros included.</summary>
    public static DailyBody Daily(Shop shop, DateOnly from, DateOnly to)
    {
        var facts = Facts.Of(shop);
        var range = DateRange.Checked(from, to);
        var orders = facts.OrdersIn(range).ToLookup(o => o.Date);
        var refunds = facts.RefundsIn(range).ToLookup(r => r.Date);
        var days = new List<DayRow>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            var gross = orders[day].Sum(o => o.Gross);
            var discounts = orders[day].Sum(o => o.Discounts);
            var returns = refunds[day].Sum(r => r.Returns);
            var net = gross - discounts - returns;
            var shipping = orders[day].Sum(o => o.Shipping) - refunds[day].Sum(r => r.RefundedShipping);
            var taxes = orders[day].Sum(o => o.Taxes) - refunds[day].Sum(r => r.RefundedTax);
            days.Add(new DayRow(day, orders[day].Count(), Money(gross), Money(discounts), Money(returns), Money(net), Money(net + shipping + taxes)));
        }
        return new DailyBody(shop.CurrencyCode, days);
    }

    public static TopCustomersBody TopCustomers(Shop shop, DateOnly from, DateOnly to, int limit = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var facts = Facts.Of(shop);
        var range = DateRange.Checked(from, to);
        var orders = facts.OrdersIn(range).Where(o => o.CustomerId is not null).ToLookup(o => o.CustomerId!.Value);
        // METRICS: "− returns of refunds dated in it on their orders": any of their counted orders, including
        // ones dated before the range, as long as the refund itself is dated in it.
        var returns = facts.RefundsIn(range).Where(r => r.Order.CustomerId is not null)
            .GroupBy(r => r.Order.CustomerId!.Value).ToDictionary(g => g.Key, g => g.Sum(r => r.Returns));

        // METRICS: only customers with at least one order dated in the range are ranked.
        var items = orders
            .Select(g => (Customer: g.First().Customer!, Orders: g.Count(),
                Net: g.Sum(o => o.Gross - o.Discounts) - returns.GetValueOrDefault(g.Key)))
            .OrderByDescending(c => c.Net).ThenBy(c => c.Customer.Id)
            .Take(limit)
            .Select(c => new TopCustomerRow(Id(c.Customer.Id), NameOf(c.Customer), c.Customer.Email, c.Orders, Money(c.Net)))
            .ToList();
        return new TopCustomersBody(items);
    }

    /// <param name="formerProducts">
    /// Products deleted since: the model forgets a deleted product's lines (they answer <c>product: null</c>, as
    /// on Shopify), but METRICS says "A deleted product keeps its past sales, under its id and its last known
    /// title". Pass what <see cref="CaptureLineProducts"/> recorded before the deletion; lines without a product
    /// that are not in it are custom items.
    /// </param>
    public static ProductsBody Products(Shop shop, DateOnly from, DateOnly to, int limit = 10,
        IReadOnlyDictionary<long, FormerProduct>? formerProducts = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var facts = Facts.Of(shop);
        var range = DateRange.Checked(from, to);
        var rows = new Dictionary<long, ProductTotals>(); // key: product id, or -1 for custom items (ids are positive)

        ProductTotals RowOf(LineItem line)
        {
            var (id, title) = line.Product is { } product ? (product.Id, product.Title)
                : formerProducts?.GetValueOrDefault(line.Id) is { } former ? (former.ProductId, former.Title)
                : (-1L, CustomItemsTitle);
            if (!rows.TryGetValue(id, out var row))
                rows[id] = row = new ProductTotals(id < 0 ? null : id, title);
            return row;
        }

        foreach (var order in facts.OrdersIn(range))
            foreach (var line in order.Order.LineItems.Where(l => !l.IsGiftCard)) // METRICS: gift cards: amounts and units alike
            {
                var row = RowOf(line);
                row.UnitsSold += line.Quantity;
                row.Gross += line.OriginalUnitPriceSet.ShopAmount * line.Quantity;
                row.Discounts += line.DiscountAllocations.Sum(d => d.AllocatedAmountSet.ShopAmount);
            }
        foreach (var refund in facts.RefundsIn(range))
            foreach (var refundLine in refund.Refund.RefundLineItems.Where(r => !r.LineItem.IsGiftCard))
            {
                var row = RowOf(refundLine.LineItem);
                row.UnitsReturned += refundLine.Quantity;
                row.Returns += refundLine.SubtotalSet.ShopAmount;
            }

        // METRICS: net sales descending, then product id ascending (numerically), "Custom items" last among equals.
        // Decided: a product is listed when it has a sale or a return in the range (a return alone lists it,
        // with negative net sales), as Shopify's "sales by product" report does.
        var items = rows.Values
            .OrderByDescending(r => r.Net).ThenBy(r => r.ProductId is null).ThenBy(r => r.ProductId)
            .Take(limit)
            .Select(r => new ProductRow(r.ProductId is { } id ? Id(id) : null, r.Title, r.UnitsSold, r.UnitsReturned,
                Money(r.Gross), Money(r.Discounts), Money(r.Returns), Money(r.Net)))
            .ToList();
        return new ProductsBody(items);
    }

    /// <summary>Line item id → its product, for every line that has one now; take it just before <see cref="Shop.DeleteProduct"/>.</summary>
    public static IReadOnlyDictionary<long, FormerProduct> CaptureLineProducts(Shop shop) =>
        shop.Orders.SelectMany(o => o.LineItems).Where(l => l.Product is not null)
            .ToDictionary(l => l.Id, l => new FormerProduct(l.Product!.Id, l.Product.Title));

    public static CheckoutsBody Checkouts(Shop shop, DateOnly from, DateOnly to)
    {
        var facts = Facts.Of(shop);
        var range = DateRange.Checked(from, to);
        var orders = facts.OrdersIn(range).Count();
        // METRICS: "never completed (completedAt is null and, for checkouts known by their token from webhooks,
        // no order carries that token)". Any order of the shop counts for the token, test orders included:
        // the checkout was completed either way. Deleted checkouts are not in the model's list.
        var tokens = shop.Orders.Where(o => o.CheckoutToken is not null).Select(o => o.CheckoutToken!).ToHashSet(StringComparer.Ordinal);
        var abandoned = shop.AbandonedCheckouts
            .Where(c => range.Contains(LocalDate(shop, c.CreatedAt)) && c.CompletedAt is null && !tokens.Contains(c.Token))
            .ToList();
        var value = abandoned.Sum(c => c.TotalPriceSet.ShopAmount);
        var denominator = orders + abandoned.Count;
        return new CheckoutsBody(orders, abandoned.Count, Money(value), denominator == 0 ? 0m : Rate((decimal)orders / denominator));
    }

    public static SegmentsBody Segments(Shop shop, DateOnly asOf)
    {
        var facts = Facts.Of(shop);
        var upTo = new DateRange(DateOnly.MinValue, asOf);
        var orders = facts.OrdersIn(upTo).Where(o => o.CustomerId is not null).ToLookup(o => o.CustomerId!.Value);
        // METRICS: "− all returns on them up to asOf": refunds dated up to asOf on their orders dated up to asOf.
        var returns = facts.RefundsIn(upTo).Where(r => r.Order.CustomerId is not null && upTo.Contains(r.Order.Date))
            .GroupBy(r => r.Order.CustomerId!.Value).ToDictionary(g => g.Key, g => g.Sum(r => r.Returns));

        var customers = orders.Select(g => (
                Id: g.Key,
                // The first order by the numbering (processedAt, ties by id) has the earliest date as well.
                FirstDate: g.Single(o => o.IsFirstOrder).Date,
                Net: g.Sum(o => o.Gross - o.Discounts) - returns.GetValueOrDefault(g.Key)))
            .ToList();

        // METRICS: New = first order dated within asOf − 29 .. asOf (30 days ending on asOf).
        var isNew = customers.ToDictionary(c => c.Id, c => c.FirstDate >= asOf.AddDays(-29));
        // METRICS: the 90th percentile by nearest rank over *all* customers with an order (New ones included):
        // sort ascending, take the value at rank ⌈0.9 × N⌉ (1-based).
        var threshold = decimal.MaxValue;
        if (customers.Count > 0)
        {
            var sorted = customers.Select(c => c.Net).Order().ToList();
            var rank = (int)Math.Ceiling(0.9m * customers.Count);
            threshold = sorted[rank - 1];
        }
        string SegmentOf((long Id, DateOnly FirstDate, decimal Net) c) =>
            isNew[c.Id] ? "New" : c.Net >= threshold ? "VIP" : "Regular";
        var bySegment = customers.ToLookup(SegmentOf);
        var segments = SegmentNames
            .Select(name => new SegmentRow(name, bySegment[name].Count(), Money(bySegment[name].Sum(c => c.Net))))
            .ToList();

        // METRICS: prospects = customers created on or before asOf with no counted order up to asOf.
        // Deleted customers have left the model's list (METRICS: they leave the customer counts).
        var prospects = shop.Customers.Count(c => LocalDate(shop, c.CreatedAt) <= asOf && !orders.Contains(c.Id));

        // METRICS: rfm "as it stands now (not as of asOf)"; customers without a group are left out. Listed in
        // the order of Shopify's CustomerRfmGroup enum, groups without customers left out (decided: the spec
        // says "count per group", which names no empty group).
        var rfm = shop.Customers.Where(c => c.Statistics.RfmGroup is not null)
            .GroupBy(c => c.Statistics.RfmGroup!, StringComparer.Ordinal)
            .OrderBy(g => RfmOrder(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new RfmRow(g.Key, g.Count()))
            .ToList();
        return new SegmentsBody(asOf, segments, prospects, rfm);
    }

    /// <summary>METRICS: a timestamp belongs to the local calendar date in the shop's time zone.</summary>
    public static DateOnly LocalDate(Shop shop, DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, shop.TimeZone).DateTime);

    /// <summary>METRICS: "rounded only when shown: money to 2 decimals, rates to 4, half away from zero".</summary>
    public static decimal Money(decimal amount) => decimal.Round(amount, 2, MidpointRounding.AwayFromZero);

    public static decimal Rate(decimal rate) => decimal.Round(rate, 4, MidpointRounding.AwayFromZero);

    /// <summary>METRICS: "Name = first and last name joined by a space (whichever exist), else the email, else null".</summary>
    public static string? NameOf(Customer customer)
    {
        var name = string.Join(' ', new[] { customer.FirstName, customer.LastName }.Where(n => !string.IsNullOrWhiteSpace(n)));
        return name.Length > 0 ? name : string.IsNullOrWhiteSpace(customer.Email) ? null : customer.Email;
    }

    private static int RfmOrder(string group)
    {
        for (var i = 0; i < ShopGenerator.RfmGroups.Count; i++)
            if (ShopGenerator.RfmGroups[i] == group)
                return i;
        return int.MaxValue;
    }

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private sealed class ProductTotals(long? productId, string title)
    {
        public long? ProductId { get; } = productId;
        public string Title { get; } = title;
        public int UnitsSold { get; set; }
        public int UnitsReturned { get; set; }
        public decimal Gross { get; set; }
        public decimal Discounts { get; set; }
        public decimal Returns { get; set; }
        public decimal Net => Gross - Discounts - Returns;
    }

    private readonly record struct DateRange(DateOnly From, DateOnly To)
    {
        public bool Contains(DateOnly date) => date >= From && date <= To;

        /// <summary>A range the endpoints accept (API.md: from ≤ to, at most 731 days); the endpoints answer 400 otherwise.</summary>
        public static DateRange Checked(DateOnly from, DateOnly to)
        {
            if (from > to)
                throw new ArgumentException($"from {from:yyyy-MM-dd} is after to {to:yyyy-MM-dd}.", nameof(from));
            if (to.DayNumber - from.DayNumber + 1 > MaxRangeDays)
                throw new ArgumentException($"The range {from:yyyy-MM-dd}..{to:yyyy-MM-dd} spans more than {MaxRangeDays} days.", nameof(to));
            return new DateRange(from, to);
        }
    }

    /// <summary>A counted order, reduced to the figures booked on its date.</summary>
    private sealed record OrderFact(Order Order, DateOnly Date, Customer? Customer, bool IsFirstOrder, decimal Gross, decimal Discounts, decimal Shipping, decimal Taxes)
    {
        public long? CustomerId => Customer?.Id;
    }

    /// <summary>A refund of a counted order, reduced to the figures booked on the refund date.</summary>
    private sealed record RefundFact(Refund Refund, OrderFact Order, DateOnly Date, decimal Returns, decimal RefundedShipping, decimal RefundedTax);

    /// <summary>Every counted order and refund of a shop, with its local date and shop-money figures.</summary>
    private sealed class Facts
    {
        private readonly List<OrderFact> _orders;
        private readonly List<RefundFact> _refunds;

        private Facts(List<OrderFact> orders, List<RefundFact> refunds) => (_orders, _refunds) = (orders, refunds);

        public IEnumerable<OrderFact> OrdersIn(DateRange range) => _orders.Where(o => range.Contains(o.Date));

        public IEnumerable<RefundFact> RefundsIn(DateRange range) => _refunds.Where(r => range.Contains(r.Date));

        public static Facts Of(Shop shop)
        {
            // METRICS: counted orders = test = false and not deleted (the model drops deleted orders from its list
            // and keeps their ids; both are checked). Cancelled orders are counted; their refunds are returns.
            var deleted = shop.DeletedOrderIds.ToHashSet();
            var counted = shop.Orders.Where(o => !o.Test && !deleted.Contains(o.Id)).ToList();

            // METRICS: number each customer's counted orders by processedAt, ties by order id; the first is new.
            // Numbered over the whole history, not the range: a range's first order of a customer may be a repeat.
            var firstOrders = counted.Where(o => o.Customer is not null)
                .GroupBy(o => o.Customer!.Id)
                .Select(g => g.OrderBy(o => o.ProcessedAt).ThenBy(o => o.Id).First().Id)
                .ToHashSet();

            var orders = new List<OrderFact>();
            var refunds = new List<RefundFact>();
            foreach (var order in counted)
            {
                // METRICS: gift-card lines are left out of every figure, amounts and units alike.
                var lines = order.LineItems.Where(l => !l.IsGiftCard).ToList();
                var fact = new OrderFact(
                    order,
                    LocalDate(shop, order.ProcessedAt), // METRICS: order date = processedAt, in the shop's zone
                    order.Customer,
                    firstOrders.Contains(order.Id),
                    Gross: lines.Sum(l => l.OriginalUnitPriceSet.ShopAmount * l.Quantity),
                    Discounts: lines.Sum(l => l.DiscountAllocations.Sum(d => d.AllocatedAmountSet.ShopAmount)),
                    Shipping: order.TotalShippingPriceSet.ShopAmount,
                    // METRICS' source is the order's totalTaxSet. Gift cards are left out of every figure, so a
                    // gift-card line's own tax (Shopify charges none; the model neither) would be taken off.
                    Taxes: order.TotalTaxSet.ShopAmount - order.LineItems.Where(l => l.IsGiftCard).SelectMany(l => l.TaxLines).Sum(t => t.PriceSet.ShopAmount));
                orders.Add(fact);

                foreach (var refund in order.Refunds)
                {
                    var refundLines = refund.RefundLineItems.Where(r => !r.LineItem.IsGiftCard).ToList();
                    refunds.Add(new RefundFact(
                        refund,
                        fact,
                        LocalDate(shop, refund.CreatedAt), // METRICS: refund date = the refund's createdAt
                        Returns: refundLines.Sum(r => r.SubtotalSet.ShopAmount),
                        RefundedShipping: refund.RefundShippingLines.Sum(s => s.SubtotalAmountSet.ShopAmount),
                        // METRICS: refunded tax = refunded line taxes + refunded shipping taxes.
                        RefundedTax: refundLines.Sum(r => r.TotalTaxSet.ShopAmount) + refund.RefundShippingLines.Sum(s => s.TaxAmountSet.ShopAmount)));
                }
            }
            return new Facts(orders, refunds);
        }
    }
}
