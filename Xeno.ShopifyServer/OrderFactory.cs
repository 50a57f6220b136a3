using System.Globalization;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>What to place; unset parts are drawn from the shop's seeded random source.</summary>
public sealed record NewOrder
{
    /// <summary>Null places a guest order.</summary>
    public Customer? Customer { get; init; }
    /// <summary>Default: the shop clock's now.</summary>
    public DateTimeOffset? ProcessedAt { get; init; }
    public bool Test { get; init; }
    /// <summary>Charge in the shop's presentment currency (converted at its fixed rate) instead of the shop currency.</summary>
    public bool Foreign { get; init; }
    /// <summary>(variant id, quantity) pairs; default: one to four random lines.</summary>
    public IReadOnlyList<(long VariantId, int Quantity)>? Lines { get; init; }
    /// <summary>Discount percentage on every non-gift-card line; default: random (often none).</summary>
    public decimal? DiscountPercent { get; init; }
    /// <summary>Default: 8.875% on most orders.</summary>
    public decimal? TaxRate { get; init; }
    /// <summary>Default: random; 0 means no shipping line.</summary>
    public decimal? Shipping { get; init; }
}

/// <summary>
/// The products orders and checkouts draw from: the active ones with variants, split by gift cards. Taken once per
/// generated shop (its products do not change meanwhile) instead of once per order or line.
/// </summary>
internal sealed class OrderCatalog
{
    public OrderCatalog(IEnumerable<Product> products)
    {
        Active = products.Where(p => p.Status == "ACTIVE" && p.Variants.Count > 0).ToList();
        GiftCards = Active.Where(p => p.IsGiftCard).ToList();
        Goods = Active.Where(p => !p.IsGiftCard).ToList();
    }

    public List<Product> Active { get; }
    public List<Product> GiftCards { get; }
    public List<Product> Goods { get; }
}

/// <summary>Builds orders, refunds and checkouts with amounts that add up the way Shopify's do.</summary>
internal static class OrderFactory
{
    private static readonly string[] DiscountCodes = ["WELCOME10", "SPRING15", "VIP20", "FREESHIP5"];

    /// <summary>Builds (does not add) an order; <paramref name="catalog"/> defaults to the shop's products as they are now.</summary>
    public static Order Build(Shop shop, NewOrder spec, OrderCatalog? catalog = null)
    {
        var random = shop.Random;
        var processedAt = spec.ProcessedAt ?? shop.Now;
        var foreign = spec.Foreign && shop.PresentmentCurrencyCode != shop.CurrencyCode;
        var rate = foreign ? shop.PresentmentRate : 1m;
        var number = shop.NextOrderNumber();
        var order = new Order
        {
            Id = shop.NextId("Order"),
            Number = number,
            Name = "#" + number.ToString(CultureInfo.InvariantCulture),
            Customer = spec.Customer,
            Email = spec.Customer?.Email ?? (random.Next(4) == 0 ? null : $"guest{number}@example.net"),
            CreatedAt = processedAt.AddSeconds(-random.Next(0, 5)),
            ProcessedAt = processedAt,
            UpdatedAt = processedAt,
            Test = spec.Test,
            CurrencyCode = shop.CurrencyCode,
            PresentmentCurrencyCode = foreign ? shop.PresentmentCurrencyCode : shop.CurrencyCode,
            ExchangeRate = rate,
            CheckoutToken = Token(random),
            SourceName = random.Next(6) == 0 ? "pos" : "web",
            Tags = random.Next(8) == 0 ? ["vip"] : [],
            ClosedAt = processedAt.AddDays(3),
        };
        MoneyBag Bag(decimal presentment) => MoneyBag.FromPresentment(presentment, rate, order.CurrencyCode, order.PresentmentCurrencyCode);

        var percent = spec.DiscountPercent ?? (random.NextDouble() < 0.3 ? new[] { 10m, 15m, 20m }[random.Next(3)] : 0m);
        var code = percent > 0 ? DiscountCodes[random.Next(DiscountCodes.Length)] : null;
        if (code is not null)
            order.DiscountCodes.Add(code);
        // One application per order, shared by the lines it is allocated to, as on Shopify.
        var application = code is null ? null : new DiscountCodeApplication(code, percent);
        var taxRate = spec.TaxRate ?? (random.NextDouble() < 0.85 ? 0.08875m : 0m);

        catalog ??= new OrderCatalog(shop.ProductList);
        var lines = spec.Lines?.Select(l => (Variant: (ProductVariant?)(shop.ProductList.SelectMany(p => p.Variants).FirstOrDefault(v => v.Id == l.VariantId)
                ?? throw new KeyNotFoundException($"No variant {l.VariantId}.")), l.Quantity)).ToList()
            ?? Enumerable.Range(0, random.Next(1, 5)).Select(_ => (Variant: PickVariant(random, catalog), Quantity: random.Next(1, 4))).ToList();

        // Exact capacities here and below: a generated shop of a million orders holds millions of these lists.
        order.LineItems.Capacity = lines.Count;
        foreach (var (variant, quantity) in lines)
        {
            // A null variant is a custom item: a line the merchant typed in, with no product behind it.
            var product = variant?.ProductRef;
            var unitShop = variant?.Price ?? random.Next(5, 60) + 0.99m;
            var unitPresentment = MoneyBag.Round(unitShop / rate);
            var line = new LineItem
            {
                Id = shop.NextId("LineItem"),
                Order = order,
                Title = product?.Title ?? "Custom engraving",
                VariantTitle = variant is null || variant.Title == "Default Title" ? null : variant.Title,
                Sku = variant?.Sku,
                Vendor = product?.Vendor,
                Quantity = quantity,
                IsGiftCard = product?.IsGiftCard ?? false,
                RequiresShipping = !(product?.IsGiftCard ?? false),
                Taxable = variant?.Taxable ?? true,
                Product = product,
                Variant = variant,
                OriginalUnitPriceSet = Bag(unitPresentment),
            };
            var discounted = unitPresentment * quantity;
            if (application is not null && !line.IsGiftCard)
            {
                var allocated = MoneyBag.Round(discounted * percent / 100m);
                line.DiscountAllocations.Capacity = 1;
                line.DiscountAllocations.Add(new DiscountAllocation(Bag(allocated), application));
                discounted -= allocated;
            }
            if (taxRate > 0 && line.Taxable && !line.IsGiftCard)
            {
                line.TaxLines.Capacity = 1;
                line.TaxLines.Add(new TaxLine("NY State Tax", (double)taxRate, Bag(discounted * taxRate)));
            }
            order.LineItems.Add(line);
        }

        if (order.RequiresShipping)
        {
            var shipping = spec.Shipping ?? (order.TotalLineItemsPriceSet.PresentmentAmount > 150 ? 0m : new[] { 5.99m, 9.99m, 14.50m }[random.Next(3)]);
            if (shipping > 0 || spec.Shipping is null)
            {
                var shippingLine = new ShippingLine
                {
                    Id = shop.NextId("ShippingLine"),
                    Title = shipping == 0 ? "Free Shipping" : "Standard",
                    Code = shipping == 0 ? "FREE" : "STANDARD",
                    OriginalPriceSet = Bag(shipping),
                };
                if (taxRate > 0 && shipping > 0)
                {
                    shippingLine.TaxLines.Capacity = 1;
                    shippingLine.TaxLines.Add(new TaxLine("NY State Tax", (double)taxRate, Bag(shipping * taxRate)));
                }
                order.ShippingLines.Capacity = 1;
                order.ShippingLines.Add(shippingLine);
            }
        }
        return order;
    }

    /// <summary>32 hex digits from two draws, as Shopify's checkout tokens look.</summary>
    private static string Token(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, random.NextInt64());
        BitConverter.TryWriteBytes(bytes[8..], random.NextInt64());
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>One line in ten is a custom item and one in twenty-five a gift card.</summary>
    private static ProductVariant? PickVariant(Random random, OrderCatalog catalog)
    {
        var draw = random.Next(100);
        if (draw < 10 || catalog.Active.Count == 0)
            return null;
        var pool = draw < 14 ? catalog.GiftCards : catalog.Goods;
        if (pool.Count == 0)
            pool = catalog.Active;
        var product = pool[random.Next(pool.Count)];
        return product.Variants[random.Next(product.Variants.Count)];
    }

    /// <summary>
    /// Refunds <paramref name="quantity"/> units of the first line with units left (all of them when null)
    /// and, optionally, the shipping; amounts are the line's discounted price and tax, pro rata.
    /// </summary>
    public static Refund Refund(Shop shop, Order order, DateTimeOffset createdAt, int? quantity, bool refundShipping, bool allLines = false, string restockType = "RETURN")
    {
        var refund = new Refund
        {
            Id = shop.NextId("Refund"),
            OrderRef = order,
            CreatedAt = createdAt,
            ProcessedAt = createdAt,
            UpdatedAt = createdAt,
            Note = allLines ? "Order cancelled" : "Customer return",
        };
        var refundable = order.LineItems.Where(l => l.CurrentQuantity > 0).ToList();
        foreach (var line in allLines ? refundable : refundable.Take(1))
        {
            var units = allLines ? line.CurrentQuantity : Math.Clamp(quantity ?? line.CurrentQuantity, 1, line.CurrentQuantity);
            MoneyBag Share(MoneyBag total) => new(
                total.ShopMoney with { Amount = MoneyBag.Round(total.ShopAmount * units / line.Quantity) },
                total.PresentmentMoney with { Amount = MoneyBag.Round(total.PresentmentAmount * units / line.Quantity) });
            refund.RefundLineItems.Add(new RefundLineItem
            {
                Id = shop.NextId("RefundLineItem"),
                LineItem = line,
                Quantity = units,
                RestockType = line.Product is null || line.IsGiftCard ? "NO_RESTOCK" : restockType,
                PriceSet = line.OriginalUnitPriceSet,
                SubtotalSet = Share(line.DiscountedTotalSet),
                TotalTaxSet = Share(MoneyBag.Sum(line.TaxLines.Select(t => t.PriceSet), order.CurrencyCode, order.PresentmentCurrencyCode)),
            });
        }
        var alreadyRefundedShipping = order.Refunds.Any(r => r.RefundShippingLines.Count > 0);
        if (refundShipping && !alreadyRefundedShipping)
            foreach (var shipping in order.ShippingLines.Where(s => s.OriginalPriceSet.ShopAmount > 0))
                refund.RefundShippingLines.Add(new RefundShippingLine
                {
                    Id = shop.NextId("RefundShippingLine"),
                    ShippingLine = shipping,
                    SubtotalAmountSet = shipping.OriginalPriceSet,
                    TaxAmountSet = MoneyBag.Sum(shipping.TaxLines.Select(t => t.PriceSet), order.CurrencyCode, order.PresentmentCurrencyCode),
                });
        order.Refunds.Add(refund);
        order.UpdatedAt = createdAt > order.UpdatedAt ? createdAt : order.UpdatedAt.AddSeconds(1);
        return refund;
    }

    public static void Cancel(Shop shop, Order order, DateTimeOffset cancelledAt, bool fullRefund)
    {
        order.CancelledAt = cancelledAt;
        order.CancelReason = new[] { "CUSTOMER", "INVENTORY", "DECLINED", "FRAUD" }[shop.Random.Next(4)];
        order.ClosedAt = cancelledAt;
        if (fullRefund)
            Refund(shop, order, cancelledAt, quantity: null, refundShipping: true, allLines: true, restockType: "CANCEL");
        order.UpdatedAt = cancelledAt > order.UpdatedAt ? cancelledAt : order.UpdatedAt.AddSeconds(1);
    }

    public static AbandonedCheckout BuildCheckout(Shop shop, Customer? customer, DateTimeOffset createdAt, OrderCatalog? catalog = null)
    {
        var random = shop.Random;
        var checkout = new AbandonedCheckout
        {
            Id = shop.NextId("AbandonedCheckout"),
            ShopDomain = shop.MyshopifyDomain,
            Customer = customer,
            Token = Token(random),
            CreatedAt = createdAt,
            UpdatedAt = createdAt.AddMinutes(random.Next(1, 30)),
            CurrencyCode = shop.CurrencyCode,
            PresentmentCurrencyCode = shop.CurrencyCode,
        };
        var products = (catalog ?? new OrderCatalog(shop.ProductList)).Goods;
        for (var i = random.Next(1, 4); i > 0 && products.Count > 0; i--)
        {
            var product = products[random.Next(products.Count)];
            var variant = product.Variants[random.Next(product.Variants.Count)];
            checkout.LineItems.Add(new AbandonedCheckoutLineItem
            {
                Id = shop.NextId("AbandonedCheckoutLineItem"),
                Title = product.Title,
                VariantTitle = variant.Title == "Default Title" ? null : variant.Title,
                Sku = variant.Sku,
                Quantity = random.Next(1, 3),
                Product = product,
                Variant = variant,
                OriginalUnitPriceSet = MoneyBag.Single(variant.Price, shop.CurrencyCode),
            });
        }
        checkout.TotalDiscountSet = MoneyBag.Zero(shop.CurrencyCode, shop.CurrencyCode);
        checkout.TotalTaxSet = MoneyBag.Single(checkout.TotalLineItemsPriceSet.ShopAmount * 0.08875m, shop.CurrencyCode);
        return checkout;
    }
}
