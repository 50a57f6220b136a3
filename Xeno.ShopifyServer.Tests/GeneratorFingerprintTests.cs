using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer.Tests;

/// <summary>
/// Pins the generator's output: the expected hashes were computed with the original (quadratic) generator, so
/// any change that makes it faster must keep every id, amount, time and assignment exactly as it was.
/// </summary>
public class GeneratorFingerprintTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 15, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, int, int, string> Cases => new()
    {
        { "default", 1, 0, "f70e18de06aa6c50d93c0b62c652e9d84199a2a1c66c4fc17daf5808552c2c2d" },
        { "default", 1, 1, "83267864410491681d5e211c8f96bf37a2773362b227f968987fdf910f7e88ca" },
        { "default", 2, 7, "95d8b907179f537746a76e4ce8bf61e0acd9baa7907ce4b3f5d0fa7b1e2946f0" },
        { "default", 42, 600, "4c573267d7ea3e9286c481315f2a347f1740cc49c8f46df918ec9f7489a00767" },
        { "default", 2026, 4000, "e7aed2a63d980c46e054d8355895a3af3b59c9488363dcbccf66ba4068dbf8cf" },
        { "long", 5, 20_000, "9da66ae7f2d0d49f5860e62494b30a4788846a30c35faab4d26e5454f69e60ef" },
        { "berlin-eur", 3, 2500, "77e8f7f8c929d337038ea39245e4a210812ce9ed12171a0415a4cb53b2f9e177" },
        { "sydney-tiny", 9, 300, "f7c0ef3c88961ea47593d46d86cad6a58a81bbd58a2cbb83a70b0bc672f829ea" },
        { "no-customers", 4, 50, "aebae0da526be09f76869e95538f91892586046f77d36c74970fd27061bbfc9b" },
        { "one-product", 6, 900, "de2650aa1fe341882c6a1de52246b513320780801e536fc09c2540813a34664f" },
        { "afternoon", 8, 1200, "75964fa5d1ffedb0dc0dba7c5cc341542c5371f6035298fae2cef2068f7be1bc" },
    };

    internal static ShopGeneratorOptions OptionsFor(string name) => name switch
    {
        "default" => new() { Now = Now },
        // The benchmark's window.
        "long" => new() { Now = Now, Days = 730 },
        "berlin-eur" => new()
        {
            Now = Now, Domain = "berlin.myshopify.com", Name = "Berlin", CurrencyCode = "EUR", IanaTimezone = "Europe/Berlin",
            PresentmentCurrencyCode = "GBP", PresentmentRate = 1.17m, Days = 90, ProductCount = 7, CustomerCount = 40, AbandonedCheckoutCount = 3,
        },
        // Southern hemisphere DST; more customers than orders, no checkouts.
        "sydney-tiny" => new() { Now = Now, IanaTimezone = "Australia/Sydney", Days = 30, CustomerCount = 500, AbandonedCheckoutCount = 0 },
        "no-customers" => new() { Now = Now, CustomerCount = 0, ProductCount = 0 },
        "one-product" => new() { Now = Now, ProductCount = 1, CustomerCount = 3, Days = 10 },
        // A history that ends mid-afternoon, with the presentment currency equal to the shop's.
        "afternoon" => new() { Now = new DateTimeOffset(2025, 11, 3, 15, 37, 12, TimeSpan.Zero), PresentmentCurrencyCode = "USD" },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void generated_shop_matches_its_recorded_fingerprint(string options, int seed, int orders, string expected)
    {
        var shop = ShopGenerator.Generate(seed, orders, OptionsFor(options));
        Assert.Equal(expected, Fingerprint(shop));
    }

    /// <summary>
    /// SHA-256 of a canonical dump of everything the generator decides, then of one order and one checkout made
    /// afterwards, which also pins the state the generator leaves behind (its random source and id sequences).
    /// </summary>
    internal static string Fingerprint(Shop shop)
    {
        var dump = new StringBuilder();
        Dump(dump, shop);
        var customer = shop.Customers.Count > 0 ? shop.Customers[0] : null;
        var placed = shop.PlaceOrder(new NewOrder { Customer = customer, ProcessedAt = Now.AddHours(1), Foreign = true });
        DumpOrder(dump, placed);
        DumpCheckout(dump, shop.AddAbandonedCheckout(customer?.Id, Now.AddHours(2)));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dump.ToString())));
    }

    private static void Dump(StringBuilder dump, Shop shop)
    {
        Line(dump, "shop", shop.Id, shop.CreatedAt, shop.PresentmentCurrencyCode, shop.PresentmentRate, string.Join(",", shop.EnabledPresentmentCurrencies));
        foreach (var product in shop.Products)
        {
            Line(dump, "product", product.Id, product.Title, product.Handle, product.Vendor, product.ProductType, product.Status, product.CreatedAt,
                product.UpdatedAt, product.PublishedAt, product.IsGiftCard, product.DescriptionHtml, string.Join(",", product.Tags));
            foreach (var variant in product.Variants)
                Line(dump, "variant", variant.Id, variant.Title, variant.Sku, variant.Barcode, variant.Price, variant.CompareAtPrice, variant.Position,
                    variant.InventoryQuantity, variant.Taxable, variant.CreatedAt, variant.UpdatedAt);
        }
        foreach (var customer in shop.Customers)
            Line(dump, "customer", customer.Id, customer.FirstName, customer.LastName, customer.Email, customer.Phone, customer.Note, customer.Locale,
                customer.State, customer.CreatedAt, customer.UpdatedAt, string.Join(",", customer.Tags), customer.TaxExempt,
                customer.Statistics.RfmGroup, customer.Statistics.PredictedSpendTier);
        foreach (var order in shop.Orders)
            DumpOrder(dump, order);
        foreach (var checkout in shop.AbandonedCheckouts)
            DumpCheckout(dump, checkout);
    }

    private static void DumpOrder(StringBuilder dump, Order order)
    {
        Line(dump, "order", order.Id, order.Number, order.Name, order.Customer?.Id, order.Email, order.Phone, order.CreatedAt, order.ProcessedAt,
            order.UpdatedAt, order.CancelledAt, order.CancelReason, order.ClosedAt, order.Test, order.CurrencyCode, order.PresentmentCurrencyCode,
            order.ExchangeRate, order.CheckoutToken, order.SourceName, string.Join(",", order.Tags), order.Note, order.TaxesIncluded,
            string.Join(",", order.DiscountCodes));
        foreach (var line in order.LineItems)
        {
            Line(dump, "line", line.Id, line.Title, line.VariantTitle, line.Sku, line.Vendor, line.Quantity, line.IsGiftCard, line.RequiresShipping,
                line.Taxable, line.Product?.Id, line.Variant?.Id, Bag(line.OriginalUnitPriceSet));
            foreach (var allocation in line.DiscountAllocations)
                Line(dump, "allocation", Bag(allocation.AllocatedAmountSet), allocation.DiscountApplication.Code, allocation.DiscountApplication.Value.Percentage);
            foreach (var tax in line.TaxLines)
                Line(dump, "tax", tax.Title, tax.Rate, Bag(tax.PriceSet));
        }
        foreach (var shipping in order.ShippingLines)
        {
            Line(dump, "shipping", shipping.Id, shipping.Title, shipping.Code, shipping.Source, Bag(shipping.OriginalPriceSet));
            foreach (var tax in shipping.TaxLines)
                Line(dump, "tax", tax.Title, tax.Rate, Bag(tax.PriceSet));
        }
        foreach (var refund in order.Refunds)
        {
            Line(dump, "refund", refund.Id, refund.CreatedAt, refund.ProcessedAt, refund.UpdatedAt, refund.Note);
            foreach (var item in refund.RefundLineItems)
                Line(dump, "refundLine", item.Id, item.LineItem.Id, item.Quantity, item.RestockType, Bag(item.PriceSet), Bag(item.SubtotalSet), Bag(item.TotalTaxSet));
            foreach (var shipping in refund.RefundShippingLines)
                Line(dump, "refundShipping", shipping.Id, shipping.ShippingLine.Id, Bag(shipping.SubtotalAmountSet), Bag(shipping.TaxAmountSet));
        }
    }

    private static void DumpCheckout(StringBuilder dump, AbandonedCheckout checkout)
    {
        Line(dump, "checkout", checkout.Id, checkout.Token, checkout.Customer?.Id, checkout.CreatedAt, checkout.UpdatedAt, checkout.CompletedAt,
            checkout.CurrencyCode, checkout.PresentmentCurrencyCode, checkout.Note, string.Join(",", checkout.DiscountCodes), Bag(checkout.TotalTaxSet),
            Bag(checkout.TotalDiscountSet), checkout.AbandonedCheckoutUrl);
        foreach (var line in checkout.LineItems)
            Line(dump, "checkoutLine", line.Id, line.Title, line.VariantTitle, line.Sku, line.Quantity, line.Product?.Id, line.Variant?.Id, Bag(line.OriginalUnitPriceSet));
    }

    private static string Bag(MoneyBag bag) =>
        Text(bag.ShopMoney.Amount) + " " + bag.ShopMoney.CurrencyCode + "/" + Text(bag.PresentmentMoney.Amount) + " " + bag.PresentmentMoney.CurrencyCode;

    private static void Line(StringBuilder dump, string kind, params object?[] values)
    {
        dump.Append(kind);
        foreach (var value in values)
            dump.Append('|').Append(Text(value));
        dump.Append('\n');
    }

    /// <summary>Invariant and exact: decimals keep their scale ("9.90"), times their offset and ticks, doubles round-trip.</summary>
    private static string Text(object? value) => value switch
    {
        null => "∅",
        DateTimeOffset at => at.ToString("O", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };
}
