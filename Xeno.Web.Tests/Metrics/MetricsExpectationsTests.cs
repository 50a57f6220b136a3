using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;

namespace Xeno.Web.Tests.Metrics;

/// <summary>
/// The expectations themselves, checked against numbers worked out by hand on small shops, so that the
/// integration tests compare Xeno with something known to be right. No database, no HTTP.
/// </summary>
public sealed class MetricsExpectationsTests
{
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    /// <summary>A wall-clock time in New York (the generated shops' zone).</summary>
    private static DateTimeOffset Local(int year, int month, int day, int hour, int minute = 0)
    {
        var local = new DateTime(year, month, day, hour, minute, 0, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, NewYork.GetUtcOffset(local));
    }

    private static DateOnly D(int month, int day, int year = 2026) => new(year, month, day);

    /// <summary>
    /// A shop with products and nothing else: the generator's products, with the prices of two of them set
    /// by hand (A 100.00, B 40.00), and its gift card ($25, $50, $100).
    /// </summary>
    private sealed class TestShop
    {
        public Shop Shop { get; }
        public Product A { get; }
        public Product B { get; }
        public long AVariant => A.Variants[0].Id;
        public long BVariant => B.Variants[0].Id;
        public long Gift25 { get; }
        public long Gift50 { get; }

        public TestShop(decimal bPrice = 40m)
        {
            Shop = ShopGenerator.Generate(5, 0, new ShopGeneratorOptions
            {
                Domain = "unit.myshopify.com",
                Now = new DateTimeOffset(2026, 3, 15, 0, 0, 0, TimeSpan.Zero),
                CustomerCount = 0,
                AbandonedCheckoutCount = 0,
            });
            Assert.Empty(Shop.Orders);
            var products = Shop.Products.Where(p => !p.IsGiftCard && p.Status == "ACTIVE").OrderBy(p => p.Id).ToList();
            A = Shop.UpdateProduct(products[0].Id, p => p.Variants[0].Price = 100m);
            B = Shop.UpdateProduct(products[1].Id, p => p.Variants[0].Price = bPrice);
            var gift = Shop.Products.Single(p => p.IsGiftCard);
            Gift25 = gift.Variants.Single(v => v.Price == 25m).Id;
            Gift50 = gift.Variants.Single(v => v.Price == 50m).Id;
        }

        public Customer Customer(string? first, string? last, string? email, DateTimeOffset createdAt, string? rfm = "PROSPECTS") =>
            Shop.AddCustomer(c =>
            {
                c.FirstName = first;
                c.LastName = last;
                c.Email = email;
                c.CreatedAt = createdAt;
                c.Statistics.RfmGroup = rfm;
            });

        /// <summary>An order with no discount, tax or shipping unless asked for.</summary>
        public Order Order(DateTimeOffset at, Customer? customer, (long Variant, int Quantity)[] lines,
            decimal discountPercent = 0m, decimal taxRate = 0m, decimal shipping = 0m, bool test = false) =>
            Shop.PlaceOrder(new NewOrder
            {
                ProcessedAt = at,
                Customer = customer,
                Lines = lines,
                DiscountPercent = discountPercent,
                TaxRate = taxRate,
                Shipping = shipping,
                Test = test,
            });
    }

    /// <summary>
    /// The sales scenario, all in March 2026 (New York; DST starts on Sunday the 8th):
    /// 1. 03-06 test order of Ada, A×5: counted nowhere, not even as Ada's first order.
    /// 2. 03-07 15:00, Ada, A×2 at 100, 10% off, 10% tax, 10.00 shipping (+1.00 shipping tax):
    ///    gross 200, discounts 20, taxes 18 + 1 = 19, shipping 10.
    /// 3. 03-08 23:30 EDT (03-09 03:30 UTC), Ada again, B×1 at 40 and a $50 gift card: gross 40.
    /// 4. 03-09 12:00, guest, a $25 gift card and B×1: gross 40; the gift card is refunded at 13:00 (no return).
    /// 5. 03-10 09:00, guest, 2 custom items at 40: gross 80.
    /// Refund of order 2 on 03-10 10:00: one A (90.00 = half the discounted 180, tax 9.00) and the shipping
    /// (10.00, tax 1.00): returns 90, refunded shipping 10, refunded tax 10.
    /// </summary>
    private sealed class SalesScenario
    {
        public TestShop T { get; } = new();
        public Shop Shop => T.Shop;
        public Customer Ada { get; }
        public Order First { get; }
        public Order LateNight { get; }

        public SalesScenario()
        {
            Ada = T.Customer("Ada", "Lovelace", "ada@example.com", Local(2026, 1, 5, 9));
            T.Order(Local(2026, 3, 6, 12), Ada, [(T.AVariant, 5)], test: true);
            First = T.Order(Local(2026, 3, 7, 15), Ada, [(T.AVariant, 2)], discountPercent: 10m, taxRate: 0.10m, shipping: 10m);
            LateNight = T.Order(Local(2026, 3, 8, 23, 30), Ada, [(T.BVariant, 1), (T.Gift50, 1)]);
            var giftOrder = T.Order(Local(2026, 3, 9, 12), null, [(T.Gift25, 1), (T.BVariant, 1)]);
            Shop.AddRefund(giftOrder.Id, quantity: 1, createdAt: Local(2026, 3, 9, 13));
            var custom = T.Order(Local(2026, 3, 10, 9), null, [(T.BVariant, 2)]);
            // Custom items: lines the merchant typed in, with no product behind them.
            Shop.UpdateOrder(custom.Id, o => { o.LineItems[0].Product = null; o.LineItems[0].Variant = null; });
            Shop.AddRefund(First.Id, quantity: 1, refundShipping: true, createdAt: Local(2026, 3, 10, 10));
        }
    }

    [Fact]
    public void the_scenario_is_what_its_description_says()
    {
        var s = new SalesScenario();
        Assert.Equal(20m, s.First.TotalDiscountsSet.ShopAmount);
        Assert.Equal(19m, s.First.TotalTaxSet.ShopAmount);
        Assert.Equal(10m, s.First.TotalShippingPriceSet.ShopAmount);
        var refund = Assert.Single(s.First.Refunds);
        Assert.Equal(90m, refund.RefundLineItems.Single().SubtotalSet.ShopAmount);
        Assert.Equal(9m, refund.RefundLineItems.Single().TotalTaxSet.ShopAmount);
        Assert.Equal(1m, refund.RefundShippingLines.Single().TaxAmountSet.ShopAmount);
        // The late-night order's UTC date is the next day: only the shop's zone puts it on the 8th.
        Assert.Equal(new DateTimeOffset(2026, 3, 9, 3, 30, 0, TimeSpan.Zero), s.LateNight.ProcessedAt.ToUniversalTime());
        Assert.True(s.LateNight.LineItems[1].IsGiftCard);
    }

    [Fact]
    public void summary_over_the_whole_scenario()
    {
        var s = new SalesScenario();
        var summary = MetricsExpectations.Summary(s.Shop, D(3, 6), D(3, 10));
        // 4 orders (the test order left out); gross 200 + 40 + 40 + 80 (gift cards left out); returns 90 (the
        // gift card's refund left out); shipping 10 − 10; taxes 19 − 10; AOV (360 − 20) / 4.
        Assert.Equal(new SummaryBody("USD", D(3, 6), D(3, 10), Orders: 4, GrossSales: 360m, Discounts: 20m, Returns: 90m,
            NetSales: 250m, Shipping: 0m, Taxes: 9m, TotalSales: 259m, AverageOrderValue: 85m, Customers: 1, NewCustomers: 1,
            ReturningCustomers: 1, ReturningCustomerRate: 1m), summary);
    }

    [Fact]
    public void a_refund_on_a_later_day_is_booked_on_its_own_date_across_the_range_boundary()
    {
        var s = new SalesScenario();
        // Before the refund: order 2's sales, shipping and taxes, no return.
        Assert.Equal(new SummaryBody("USD", D(3, 7), D(3, 8), Orders: 2, GrossSales: 240m, Discounts: 20m, Returns: 0m,
            NetSales: 220m, Shipping: 10m, Taxes: 19m, TotalSales: 249m, AverageOrderValue: 110m, Customers: 1, NewCustomers: 1,
            ReturningCustomers: 1, ReturningCustomerRate: 1m), MetricsExpectations.Summary(s.Shop, D(3, 7), D(3, 8)));
        // After: the refund of an order dated before the range makes shipping and taxes negative; only guests
        // ordered, so no customers; AOV (40 + 80) / 2 is not lowered by the return.
        Assert.Equal(new SummaryBody("USD", D(3, 9), D(3, 10), Orders: 2, GrossSales: 120m, Discounts: 0m, Returns: 90m,
            NetSales: 30m, Shipping: -10m, Taxes: -10m, TotalSales: 10m, AverageOrderValue: 60m, Customers: 0, NewCustomers: 0,
            ReturningCustomers: 0, ReturningCustomerRate: 0m), MetricsExpectations.Summary(s.Shop, D(3, 9), D(3, 10)));
    }

    [Fact]
    public void an_order_at_23_30_on_the_dst_day_lands_on_its_local_date()
    {
        var s = new SalesScenario();
        var eighth = MetricsExpectations.Summary(s.Shop, D(3, 8), D(3, 8));
        Assert.Equal(1, eighth.Orders);
        Assert.Equal(40m, eighth.GrossSales);
        // Ada's second counted order: returning, not new.
        Assert.Equal((1, 0, 1, 1m), (eighth.Customers, eighth.NewCustomers, eighth.ReturningCustomers, eighth.ReturningCustomerRate));
        var ninth = MetricsExpectations.Summary(s.Shop, D(3, 9), D(3, 9));
        Assert.Equal(1, ninth.Orders); // the guest's order only
        Assert.Equal(0, ninth.Customers);
    }

    [Fact]
    public void aov_is_rounded_half_away_from_zero_only_at_the_end()
    {
        var s = new SalesScenario();
        var summary = MetricsExpectations.Summary(s.Shop, D(3, 8), D(3, 10));
        Assert.Equal(3, summary.Orders);
        Assert.Equal(53.33m, summary.AverageOrderValue); // 160 / 3
    }

    [Fact]
    public void daily_has_every_date_zeros_included()
    {
        var s = new SalesScenario();
        var daily = MetricsExpectations.Daily(s.Shop, D(3, 5), D(3, 10));
        Assert.Equal("USD", daily.Currency);
        Assert.Equal(
        [
            new DayRow(D(3, 5), 0, 0m, 0m, 0m, 0m, 0m),
            new DayRow(D(3, 6), 0, 0m, 0m, 0m, 0m, 0m), // the test order only
            new DayRow(D(3, 7), 1, 200m, 20m, 0m, 180m, 209m), // + shipping 10 + taxes 19
            new DayRow(D(3, 8), 1, 40m, 0m, 0m, 40m, 40m),
            new DayRow(D(3, 9), 1, 40m, 0m, 0m, 40m, 40m), // the gift card's refund is no return
            new DayRow(D(3, 10), 1, 80m, 0m, 90m, -10m, -30m), // − refunded shipping 10 − refunded tax 10
        ], daily.Days);
    }

    [Fact]
    public void products_leave_gift_cards_out_and_rank_custom_items_last_among_equals()
    {
        var s = new SalesScenario();
        var products = MetricsExpectations.Products(s.Shop, D(3, 6), D(3, 10));
        Assert.Equal(
        [
            new ProductRow(s.T.A.Id.ToString(), s.T.A.Title, UnitsSold: 2, UnitsReturned: 1, 200m, 20m, 90m, 90m),
            new ProductRow(s.T.B.Id.ToString(), s.T.B.Title, UnitsSold: 2, UnitsReturned: 0, 80m, 0m, 0m, 80m),
            new ProductRow(null, "Custom items", UnitsSold: 2, UnitsReturned: 0, 80m, 0m, 0m, 80m),
        ], products.Items);
        Assert.Equal(2, MetricsExpectations.Products(s.Shop, D(3, 6), D(3, 10), limit: 2).Items.Count);

        // A return alone, in a range without the sale, still lists the product, with negative net sales.
        var refundDay = MetricsExpectations.Products(s.Shop, D(3, 10), D(3, 10));
        Assert.Equal(new ProductRow(null, "Custom items", 2, 0, 80m, 0m, 0m, 80m), refundDay.Items[0]);
        Assert.Equal(new ProductRow(s.T.A.Id.ToString(), s.T.A.Title, 0, 1, 0m, 0m, 90m, -90m), refundDay.Items[1]);
    }

    [Fact]
    public void a_deleted_product_keeps_its_sales_under_its_id_and_last_known_title()
    {
        var s = new SalesScenario();
        s.Shop.UpdateProduct(s.T.B.Id, p => p.Title = "Renamed B");
        var former = MetricsExpectations.CaptureLineProducts(s.Shop);
        s.Shop.DeleteProduct(s.T.B.Id);

        var products = MetricsExpectations.Products(s.Shop, D(3, 6), D(3, 10), formerProducts: former);
        Assert.Contains(new ProductRow(s.T.B.Id.ToString(), "Renamed B", 2, 0, 80m, 0m, 0m, 80m), products.Items);
        Assert.Contains(new ProductRow(null, "Custom items", 2, 0, 80m, 0m, 0m, 80m), products.Items);
    }

    [Fact]
    public void top_customers_count_returns_on_any_of_their_orders_but_rank_only_customers_who_ordered()
    {
        var s = new SalesScenario();
        // Ada: 180 + 40 of her orders, − 90 returned on the 10th.
        Assert.Equal([new TopCustomerRow(s.Ada.Id.ToString(), "Ada Lovelace", "ada@example.com", 2, 130m)],
            MetricsExpectations.TopCustomers(s.Shop, D(3, 6), D(3, 10)).Items);
        // The refund alone does not list her.
        Assert.Empty(MetricsExpectations.TopCustomers(s.Shop, D(3, 9), D(3, 10)).Items);
        // Her orders without the refund.
        Assert.Equal(220m, MetricsExpectations.TopCustomers(s.Shop, D(3, 7), D(3, 8)).Items.Single().NetSales);
    }

    [Fact]
    public void top_customers_tie_by_id_and_are_named_as_metrics_says()
    {
        var t = new TestShop();
        var at = Local(2026, 3, 9, 12);
        var grace = t.Customer("Grace", null, "grace@example.com", at.AddDays(-30));
        var emailOnly = t.Customer(null, null, "only@example.com", at.AddDays(-30));
        var anonymous = t.Customer(null, null, null, at.AddDays(-30));
        Assert.True(grace.Id < emailOnly.Id && emailOnly.Id < anonymous.Id);
        t.Order(at, emailOnly, [(t.BVariant, 1)]);
        t.Order(at, grace, [(t.BVariant, 1)]);
        t.Order(at, anonymous, [(t.AVariant, 1)]);

        Assert.Equal(
        [
            new TopCustomerRow(anonymous.Id.ToString(), null, null, 1, 100m),
            new TopCustomerRow(grace.Id.ToString(), "Grace", "grace@example.com", 1, 40m),
            new TopCustomerRow(emailOnly.Id.ToString(), "only@example.com", "only@example.com", 1, 40m),
        ], MetricsExpectations.TopCustomers(t.Shop, D(3, 9), D(3, 9)).Items);
        Assert.Equal(2, MetricsExpectations.TopCustomers(t.Shop, D(3, 9), D(3, 9), limit: 2).Items.Count);
    }

    /// <summary>
    /// Ten customers with one order each on 2025-12-01 (B at 10.00 × k: net sales 10, 20, …, 100), created
    /// 2025-11-01; Ada, created 2026-01-01, orders A×2 (200) on 2026-03-07 and has one refunded (100) on 03-12;
    /// Pat is created at 23:30 on 03-10 (03-11 in UTC) and Sam on 03-11, neither orders.
    /// </summary>
    private sealed class SegmentScenario
    {
        public TestShop T { get; } = new(bPrice: 10m);
        public Shop Shop => T.Shop;

        public SegmentScenario()
        {
            var ada = T.Customer("Ada", "Lovelace", "ada@example.com", Local(2026, 1, 1, 9), rfm: "NEW");
            for (var k = 1; k <= 10; k++)
            {
                var customer = T.Customer("Buyer", k.ToString(), null, Local(2025, 11, 1, 9), rfm: k == 10 ? null : "LOYAL");
                T.Order(Local(2025, 12, 1, 12), customer, [(T.BVariant, k)]);
            }
            var first = T.Order(Local(2026, 3, 7, 15), ada, [(T.AVariant, 2)]);
            Shop.AddRefund(first.Id, quantity: 1, createdAt: Local(2026, 3, 12, 10));
            T.Customer("Pat", null, null, Local(2026, 3, 10, 23, 30));
            T.Customer("Sam", null, null, Local(2026, 3, 11, 10));
        }
    }

    [Fact]
    public void segments_split_new_vip_and_regular_by_the_nearest_rank_percentile()
    {
        var s = new SegmentScenario();
        var march10 = MetricsExpectations.Segments(s.Shop, D(3, 10));
        // N = 11 (Ada included), rank ⌈9.9⌉ = 10 of 10, 20, …, 100, 200 → 100: the 100 buyer is VIP; Ada is New.
        Assert.Equal(
        [
            new SegmentRow("VIP", 1, 100m),
            new SegmentRow("Regular", 9, 450m),
            new SegmentRow("New", 1, 200m),
        ], march10.Segments);
        Assert.Equal(1, march10.Prospects); // Pat, created on the 10th local time; not Sam
        // As it stands now, whatever asOf: LOYAL 9 (the tenth has no group), NEW 1 (Ada), PROSPECTS 2 (Pat, Sam).
        Assert.Equal([new RfmRow("LOYAL", 9), new RfmRow("NEW", 1), new RfmRow("PROSPECTS", 2)], march10.Rfm);

        // Before Ada's first order: N = 10, rank 9 → 90; Ada is a prospect.
        var march6 = MetricsExpectations.Segments(s.Shop, D(3, 6));
        Assert.Equal([new SegmentRow("VIP", 2, 190m), new SegmentRow("Regular", 8, 360m), new SegmentRow("New", 0, 0m)], march6.Segments);
        Assert.Equal(1, march6.Prospects);
        Assert.Equal(march10.Rfm, march6.Rfm);

        // With the refund of the 12th Ada's lifetime net sales fall to 100.
        var march12 = MetricsExpectations.Segments(s.Shop, D(3, 12));
        Assert.Equal([new SegmentRow("VIP", 1, 100m), new SegmentRow("Regular", 9, 450m), new SegmentRow("New", 1, 100m)], march12.Segments);
        Assert.Equal(2, march12.Prospects);

        // Two weeks after the ten first orders every buyer is New; the 29-day window ends on asOf.
        Assert.Equal([new SegmentRow("VIP", 0, 0m), new SegmentRow("Regular", 0, 0m), new SegmentRow("New", 10, 550m)],
            MetricsExpectations.Segments(s.Shop, new DateOnly(2025, 12, 30)).Segments);
        Assert.Equal(0, MetricsExpectations.Segments(s.Shop, new DateOnly(2025, 12, 31)).Segments.Single(x => x.Name == "New").Customers);
    }

    [Fact]
    public void checkouts_count_the_uncompleted_ones_created_in_the_range_by_local_date()
    {
        var t = new TestShop();
        t.Order(Local(2026, 3, 9, 12), null, [(t.BVariant, 1)]);
        var carrier = t.Order(Local(2026, 3, 10, 12), null, [(t.BVariant, 1)]);
        t.Order(Local(2026, 3, 10, 13), null, [(t.BVariant, 1)], test: true);
        var k1 = t.Shop.AddAbandonedCheckout(createdAt: Local(2026, 3, 9, 10));
        var k2 = t.Shop.AddAbandonedCheckout(createdAt: Local(2026, 3, 10, 23, 30)); // 03-11 in UTC
        t.Shop.AddAbandonedCheckout(createdAt: Local(2026, 3, 11, 1)); // after the range
        var completed = t.Shop.AddAbandonedCheckout(createdAt: Local(2026, 3, 9, 11));
        t.Shop.CompleteAbandonedCheckout(completed.Id); // its order is placed now, long after the range
        // Known by its token only: an order carries it, though completedAt was never set.
        var byToken = t.Shop.AddAbandonedCheckout(createdAt: Local(2026, 3, 9, 11));
        t.Shop.UpdateOrder(carrier.Id, o => o.CheckoutToken = byToken.Token);

        var expected = k1.TotalPriceSet.ShopAmount + k2.TotalPriceSet.ShopAmount;
        Assert.True(expected > 0);
        Assert.Equal(new CheckoutsBody(2, 2, expected, 0.5m), MetricsExpectations.Checkouts(t.Shop, D(3, 9), D(3, 10)));
        Assert.Equal(new CheckoutsBody(0, 0, 0m, 0m), MetricsExpectations.Checkouts(t.Shop, D(3, 1), D(3, 2)));
    }

    [Fact]
    public void a_deleted_order_leaves_every_figure()
    {
        var s = new SalesScenario();
        s.Shop.DeleteOrder(s.First.Id);
        var summary = MetricsExpectations.Summary(s.Shop, D(3, 6), D(3, 10));
        Assert.Equal((3, 160m, 0m, 0m), (summary.Orders, summary.GrossSales, summary.Discounts, summary.Returns));
        // Ada's first counted order is now the late-night one.
        Assert.Equal((1, 1, 0), (summary.Customers, summary.NewCustomers, summary.ReturningCustomers));
    }

    [Fact]
    public void ranges_the_api_refuses_are_refused()
    {
        var s = new SalesScenario();
        Assert.Throws<ArgumentException>(() => MetricsExpectations.Summary(s.Shop, D(3, 2), D(3, 1)));
        Assert.Throws<ArgumentException>(() => MetricsExpectations.Daily(s.Shop, D(1, 1, 2025), D(1, 2, 2027)));
        Assert.Equal(731, MetricsExpectations.Daily(s.Shop, D(1, 2, 2025), D(1, 2, 2027)).Days.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => MetricsExpectations.TopCustomers(s.Shop, D(3, 1), D(3, 2), limit: 0));
    }
}
