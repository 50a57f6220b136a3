using System.Text;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer.Tests;

public class GeneratorTests
{
    internal static readonly DateTimeOffset Now = new(2026, 6, 15, 0, 0, 0, TimeSpan.Zero);
    internal static ShopGeneratorOptions Options(string domain = "acme-outfitters.myshopify.com") => new() { Now = Now, Domain = domain };

    private static readonly Lazy<Shop> Big = new(() => ShopGenerator.Generate(42, 600, Options()));

    [Fact]
    public void same_seed_gives_the_same_shop_and_another_seed_another()
    {
        Assert.Equal(Signature(ShopGenerator.Generate(7, 150, Options())), Signature(ShopGenerator.Generate(7, 150, Options())));
        Assert.NotEqual(Signature(ShopGenerator.Generate(7, 150, Options())), Signature(ShopGenerator.Generate(8, 150, Options())));
    }

    private static string Signature(Shop shop)
    {
        var text = new StringBuilder();
        foreach (var order in shop.Orders)
        {
            text.Append($"{order.Id}|{order.ProcessedAt:O}|{order.UpdatedAt:O}|{order.Customer?.Id}|{order.TotalPriceSet}|{order.Test}|{order.CancelledAt:O};");
            foreach (var line in order.LineItems)
                text.Append($"{line.Id}|{line.Product?.Id}|{line.Quantity}|{line.OriginalUnitPriceSet}|{line.TotalDiscountSet};");
            foreach (var refund in order.Refunds)
                text.Append($"{refund.Id}|{refund.CreatedAt:O}|{refund.TotalRefundedSet};");
        }
        foreach (var customer in shop.Customers)
            text.Append($"{customer.Id}|{customer.Email}|{customer.Statistics.RfmGroup};");
        foreach (var checkout in shop.AbandonedCheckouts)
            text.Append($"{checkout.Id}|{checkout.CreatedAt:O}|{checkout.CompletedAt:O}|{checkout.TotalPriceSet};");
        return text.ToString();
    }

    [Fact]
    public void generated_shop_has_every_feature_the_metrics_need()
    {
        var shop = Big.Value;
        var orders = shop.Orders;
        Assert.Equal(600, orders.Count);
        Assert.NotEqual(TimeSpan.Zero, shop.TimeZone.BaseUtcOffset);
        Assert.True(shop.TimeZone.SupportsDaylightSavingTime);

        // Foreign-currency orders carry both amounts, shop = presentment × rate rounded.
        var foreign = orders.Where(o => o.PresentmentCurrencyCode != o.CurrencyCode).ToList();
        Assert.NotEmpty(foreign);
        foreach (var line in foreign.SelectMany(o => o.LineItems))
            Assert.Equal(decimal.Round(line.OriginalUnitPriceSet.PresentmentAmount * shop.PresentmentRate, 2, MidpointRounding.AwayFromZero), line.OriginalUnitPriceSet.ShopAmount);
        Assert.Contains(orders, o => o.PresentmentCurrencyCode == o.CurrencyCode);

        var lines = orders.SelectMany(o => o.LineItems).ToList();
        Assert.Contains(lines, l => l.DiscountAllocations.Count > 0);
        Assert.Contains(lines, l => l.IsGiftCard);
        Assert.Contains(lines, l => l.Product is null);
        Assert.All(lines.SelectMany(l => l.DiscountAllocations), d => Assert.Equal(d.AllocatedAmountSet.ShopAmount, decimal.Round(d.AllocatedAmountSet.ShopAmount, 2)));
        Assert.Contains(orders, o => o.TotalShippingPriceSet.ShopAmount > 0);
        Assert.Contains(orders, o => o.TotalTaxSet.ShopAmount > 0);
        Assert.Contains(orders, o => o.Customer is null);
        Assert.Contains(orders, o => o.Test);
        Assert.Contains(orders, o => o.CancelledAt is not null);

        var refunds = orders.SelectMany(o => o.Refunds.Select(r => (Order: o, Refund: r))).ToList();
        Assert.Contains(refunds, r => r.Refund.CreatedAt >= r.Order.ProcessedAt.AddDays(1));
        Assert.Contains(refunds, r => r.Refund.RefundLineItems.Any(x => x.Quantity < x.LineItem.Quantity) || r.Order.LineItems.Any(l => l.CurrentQuantity > 0));
        Assert.Contains(refunds, r => r.Refund.RefundShippingLines.Count > 0);
        Assert.All(refunds, r => Assert.True(r.Refund.CreatedAt <= Now && r.Refund.CreatedAt >= r.Order.ProcessedAt));

        var customers = shop.Customers;
        Assert.Contains(customers, c => !orders.Any(o => o.Customer == c));
        Assert.Contains(customers, c => orders.Count(o => o.Customer == c) >= 3);
        foreach (var group in ShopGenerator.RfmGroups)
            Assert.Contains(customers, c => c.Statistics.RfmGroup == group);
        Assert.Contains(customers, c => c.Statistics.RfmGroup is null);

        Assert.Contains(shop.AbandonedCheckouts, c => c.CompletedAt is not null);
        Assert.Contains(shop.AbandonedCheckouts, c => c.CompletedAt is null);
        Assert.Contains(shop.Products, p => p.Variants.Count > 1);

        // Ids: large, growing with time, some beyond 2^53.
        Assert.All(orders, o => Assert.InRange(o.Id, 1_000_000_000_000L, long.MaxValue));
        Assert.Contains(orders, o => o.Id > ShopGenerator.DoublePrecisionLimit);
        Assert.Equal(orders.OrderBy(o => o.ProcessedAt).Select(o => o.Id), orders.OrderBy(o => o.Id).Select(o => o.Id));
        Assert.Equal($"gid://shopify/Order/{orders[0].Id}", orders[0].Gid);

        // Spread over ~400 days, with orders within hours of the DST changes.
        Assert.True((orders.Max(o => o.ProcessedAt) - orders.Min(o => o.ProcessedAt)).TotalDays > 300);
        var transitions = new[] { new DateTimeOffset(2025, 11, 2, 6, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 8, 7, 0, 0, TimeSpan.Zero) };
        foreach (var change in transitions)
            Assert.Contains(orders, o => Math.Abs((o.ProcessedAt - change).TotalHours) < 3);

        // Amounts have two decimals and add up.
        foreach (var order in orders)
        {
            Assert.Equal(order.TotalPriceSet.ShopAmount, decimal.Round(order.TotalPriceSet.ShopAmount, 2));
            Assert.Equal(order.SubtotalPriceSet.ShopAmount + order.TotalShippingPriceSet.ShopAmount + order.TotalTaxSet.ShopAmount, order.TotalPriceSet.ShopAmount);
        }
    }

    [Fact]
    public void a_customers_orders_follow_every_change()
    {
        var shop = ShopGenerator.Generate(4, 300, Options());
        var customer = shop.Customers.First(c => shop.Orders.Any(o => o.Customer == c));
        var other = shop.Customers.First(c => c != customer);
        var orders = customer.Orders;
        Assert.Equal(shop.Orders.Where(o => o.Customer == customer), orders);

        var placed = shop.PlaceOrder(new NewOrder { Customer = customer });
        Assert.Equal(shop.Orders.Where(o => o.Customer == customer), orders);
        Assert.Contains(placed, orders);
        shop.UpdateOrder(placed.Id, o => o.Customer = other);
        Assert.DoesNotContain(placed, customer.Orders);
        Assert.Contains(placed, other.Orders);
        shop.DeleteOrder(placed.Id);
        Assert.DoesNotContain(placed, other.Orders);
        Assert.Equal(shop.Orders.Count(o => o.Customer == other), other.NumberOfOrders);
    }

    [Fact]
    public void mutations_bump_updated_at_and_return_the_entity()
    {
        var shop = ShopGenerator.Generate(3, 40, Options());
        var before = shop.Orders[^1];
        var placed = shop.PlaceOrder(new NewOrder { Customer = shop.Customers[0] });
        Assert.True(placed.Id > before.Id);
        Assert.Equal(before.Number + 1, placed.Number);

        var target = shop.Orders.First(o => o.Refunds.Count == 0 && o.CancelledAt is null && o.LineItems.Any(l => l.Quantity > 1));
        var oldUpdatedAt = target.UpdatedAt;
        var refund = shop.AddRefund(target.Id, quantity: 1, refundShipping: true);
        Assert.Single(refund.RefundLineItems);
        Assert.Equal(1, refund.RefundLineItems[0].Quantity);
        Assert.True(target.UpdatedAt > oldUpdatedAt);

        var customer = shop.UpdateCustomer(shop.Customers[1].Id, c => c.FirstName = "Renamed");
        Assert.Equal("Renamed", customer.FirstName);

        var deleted = shop.DeleteOrder(placed.Id);
        Assert.DoesNotContain(shop.Orders, o => o.Id == deleted.Id);
        Assert.Contains(placed.Id, shop.DeletedOrderIds);

        var checkout = shop.AddAbandonedCheckout();
        Assert.Null(checkout.CompletedAt);
        Assert.NotNull(shop.CompleteAbandonedCheckout(checkout.Id).CompletedAt);
        Assert.Contains(shop.Orders, o => o.CheckoutToken == checkout.Token);
    }
}
