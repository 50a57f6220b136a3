using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

public sealed record ShopGeneratorOptions
{
    public string Domain { get; init; } = "acme-outfitters.myshopify.com";
    public string Name { get; init; } = "Acme Outfitters";
    public string CurrencyCode { get; init; } = "USD";
    /// <summary>A zone with daylight saving time, so local dates differ from UTC dates around midnight and DST.</summary>
    public string IanaTimezone { get; init; } = "America/New_York";
    public string PresentmentCurrencyCode { get; init; } = "CAD";
    /// <summary>Shop money = presentment money × this rate, rounded to cents.</summary>
    public decimal PresentmentRate { get; init; } = 0.73m;
    /// <summary>The generated history ends here. Default: today's midnight UTC, so a day's runs agree.</summary>
    public DateTimeOffset? Now { get; init; }
    public int Days { get; init; } = 400;
    public int ProductCount { get; init; } = 24;
    /// <summary>Default: a third of the order count plus ten (some of whom never order).</summary>
    public int? CustomerCount { get; init; }
    /// <summary>Default: a fifth of the order count plus five.</summary>
    public int? AbandonedCheckoutCount { get; init; }
    public TimeProvider? Clock { get; init; }
}

/// <summary>
/// Builds a realistic shop from a seed: the same seed and options always give the same shop, ids and
/// amounts included. See <see cref="Generate"/> for what it contains.
/// </summary>
public static class ShopGenerator
{
    /// <summary>2^53: JSON numbers above it lose precision as doubles; some generated ids lie beyond it.</summary>
    public const long DoublePrecisionLimit = 9_007_199_254_740_992L;

    /// <summary>The values of the schema's <c>CustomerRfmGroup</c> enum in 2026-10.</summary>
    public static readonly IReadOnlyList<string> RfmGroups =
        ["CHAMPIONS", "LOYAL", "ACTIVE", "PROMISING", "NEW", "NEEDS_ATTENTION", "AT_RISK", "PREVIOUSLY_LOYAL", "ALMOST_LOST", "DORMANT", "PROSPECTS"];

    private static readonly string[] FirstNames = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofía", "Chloé", "Yuki", "Aarav", "Zoë", "Lucas", "Maya", "Ethan", "Amara", "Jonas"];
    private static readonly string[] LastNames = ["Smith", "García", "Müller", "Nguyen", "O'Brien", "Kowalski", "Rossi", "Tanaka", "Dubois", "Patel", "Johnson", "Brown"];
    private static readonly string[] ProductWords = ["Trail", "Summit", "Harbor", "Canyon", "Alpine", "Coastal", "Urban", "Forest"];
    private static readonly string[] ProductKinds = ["Jacket", "Backpack", "Boots", "Beanie", "Water Bottle", "Hoodie", "Socks", "Tent", "Headlamp", "Gloves"];
    private static readonly string[] Sizes = ["S", "M", "L", "XL"];

    /// <summary>
    /// A shop with products (with variants, one gift card product), customers (some without orders, every
    /// RFM group, a few without one), <paramref name="orderCount"/> orders over the last
    /// <see cref="ShopGeneratorOptions.Days"/> days (guest, test, cancelled, foreign-currency orders, discounts,
    /// shipping, taxes, gift cards, custom items, refunds days later, orders around local midnight and the DST
    /// changes) and abandoned checkouts (some completed). Order ids grow with time, and the newest cross 2^53.
    /// </summary>
    public static Shop Generate(int seed, int orderCount, ShopGeneratorOptions? options = null)
    {
        options ??= new ShopGeneratorOptions();
        var now = options.Now ?? new DateTimeOffset((options.Clock ?? TimeProvider.System).GetUtcNow().UtcDateTime.Date, TimeSpan.Zero);
        var shop = new Shop(options.Domain, options.Name, options.CurrencyCode, options.IanaTimezone, options.Clock, seed)
        {
            EnabledPresentmentCurrencies = [options.CurrencyCode, options.PresentmentCurrencyCode],
        };
        shop.PresentmentCurrencyCode = options.PresentmentCurrencyCode;
        shop.PresentmentRate = options.PresentmentRate;
        var random = shop.Random;
        var start = now.AddDays(-options.Days);
        shop.CreatedAt = shop.UpdatedAt = start.AddDays(-60);

        shop.StartIds("Order", DoublePrecisionLimit - (long)(orderCount * 0.9 * 1_000_000) - 1, 2_000_000);
        shop.StartIds("Customer", 7_100_000_000_000 + random.NextInt64(1_000_000_000), 50_000_000);
        shop.StartIds("Product", 8_000_000_000_000 + random.NextInt64(1_000_000_000), 5_000_000);
        shop.StartIds("ProductVariant", 45_000_000_000_000 + random.NextInt64(1_000_000_000), 1_000_000);
        shop.StartIds("LineItem", 15_000_000_000_000 + random.NextInt64(1_000_000_000), 2_000_000);
        shop.StartIds("ShippingLine", 4_000_000_000_000 + random.NextInt64(1_000_000_000), 2_000_000);
        shop.StartIds("Refund", 1_000_000_000_000 + random.NextInt64(1_000_000_000), 2_000_000);
        shop.StartIds("RefundLineItem", 1_500_000_000_000 + random.NextInt64(1_000_000_000), 2_000_000);
        shop.StartIds("RefundShippingLine", 2_000_000_000_000 + random.NextInt64(1_000_000_000), 2_000_000);
        shop.StartIds("AbandonedCheckout", 30_000_000_000_000 + random.NextInt64(1_000_000_000), 5_000_000);
        shop.StartIds("AbandonedCheckoutLineItem", 60_000_000_000_000 + random.NextInt64(1_000_000_000), 2_000_000);

        for (var i = 0; i < options.ProductCount; i++)
            shop.ProductList.Add(NewProduct(shop, i, shop.CreatedAt.AddDays(random.Next(0, 50))));
        shop.ProductList.Add(NewGiftCardProduct(shop, shop.CreatedAt.AddDays(1)));

        var customerCount = options.CustomerCount ?? orderCount / 3 + 10;
        var customers = Enumerable.Range(0, customerCount)
            .Select(_ => start.AddDays(-30).AddMinutes(random.Next(0, (options.Days + 30) * 1440)))
            .Order()
            .Select(createdAt => NewCustomer(shop, createdAt))
            .ToList();
        shop.CustomerList.AddRange(customers);
        // A fifth of the customers never order: prospects, and the ones Shopify lets merchants delete.
        var buyers = customers.Where((_, i) => i % 5 != 4).ToList();
        // Buyers are sorted by creation and orders by time, so the buyers who exist when an order is placed are a
        // prefix of the list that only grows: one pass instead of filtering every buyer for every order.
        var eligibleCount = 0;
        var catalog = new OrderCatalog(shop.ProductList);

        foreach (var processedAt in OrderTimes(shop, random, start, now, orderCount))
        {
            while (eligibleCount < buyers.Count && buyers[eligibleCount].CreatedAt <= processedAt)
                eligibleCount++;
            Customer? customer = null;
            if (eligibleCount > 0 && random.NextDouble() >= 0.15)
            {
                // Squaring the draw favours the earliest customers, so some become repeat buyers.
                var pick = random.NextDouble();
                customer = buyers[(int)(pick * pick * eligibleCount)];
            }
            var order = OrderFactory.Build(shop, new NewOrder
            {
                Customer = customer,
                ProcessedAt = processedAt,
                Test = random.NextDouble() < 0.03,
                Foreign = random.NextDouble() < 0.15,
            }, catalog);
            shop.OrderList.Add(order);

            if (random.NextDouble() < 0.04)
            {
                var cancelledAt = Min(processedAt.AddHours(random.Next(1, 48)), now);
                OrderFactory.Cancel(shop, order, cancelledAt, fullRefund: random.NextDouble() < 0.7);
            }
            else if (random.NextDouble() < 0.14)
            {
                var refundAt = processedAt.AddDays(random.Next(1, 30)).AddMinutes(random.Next(0, 1440));
                if (refundAt < now)
                    OrderFactory.Refund(shop, order, refundAt, quantity: null, refundShipping: random.NextDouble() < 0.3);
            }
            order.UpdatedAt = Max(order.UpdatedAt, Min(now, order.ProcessedAt.AddMinutes(random.Next(1, 600))));
        }

        foreach (var customer in customers)
            customer.UpdatedAt = Max(customer.CreatedAt, shop.OrdersOf(customer).Select(o => o.ProcessedAt).DefaultIfEmpty(customer.CreatedAt).Max());
        AssignRfmGroups(shop, customers, now);

        var checkoutCount = options.AbandonedCheckoutCount ?? orderCount / 5 + 5;
        foreach (var createdAt in Enumerable.Range(0, checkoutCount).Select(_ => start.AddMinutes(random.Next(0, options.Days * 1440))).Order())
        {
            var customer = random.NextDouble() < 0.6 && customers.Count > 0 ? customers[random.Next(customers.Count)] : null;
            var checkout = OrderFactory.BuildCheckout(shop, customer, createdAt, catalog);
            if (random.NextDouble() < 0.25)
                checkout.CompletedAt = checkout.UpdatedAt = Min(now, createdAt.AddMinutes(random.Next(5, 120)));
            shop.CheckoutList.Add(checkout);
        }
        return shop;
    }

    /// <summary>Order times: spread over the window, plus some just around local midnight and the DST changes.</summary>
    private static List<DateTimeOffset> OrderTimes(Shop shop, Random random, DateTimeOffset start, DateTimeOffset now, int count)
    {
        var times = new List<DateTimeOffset>();
        var zone = shop.TimeZone;
        foreach (var day in DstChangeDays(zone, start, now))
            foreach (var (offsetDays, hour, minute) in new[] { (-1, 23, 45), (0, 0, 30), (0, 1, 30), (0, 3, 15), (0, 23, 50), (1, 0, 10) })
                times.Add(LocalToUtc(zone, day.AddDays(offsetDays).Add(new TimeSpan(hour, minute, 0))));
        times = times.Where(t => t > start && t < now).Take(count / 4).ToList();
        var spanMinutes = (int)(now - start).TotalMinutes;
        while (times.Count < count)
        {
            var at = start.AddMinutes(random.Next(1, spanMinutes)).AddSeconds(random.Next(0, 60));
            // Every tenth order lands within minutes of local midnight, where UTC and local dates disagree.
            if (times.Count % 10 == 3)
            {
                var local = TimeZoneInfo.ConvertTime(at, zone).DateTime.Date.AddMinutes(random.Next(-20, 20));
                at = LocalToUtc(zone, local);
            }
            if (at < now)
                times.Add(at);
        }
        return times.Order().ToList();
    }

    private static IEnumerable<DateTime> DstChangeDays(TimeZoneInfo zone, DateTimeOffset start, DateTimeOffset now)
    {
        for (var day = start.UtcDateTime.Date; day < now.UtcDateTime; day = day.AddDays(1))
            if (zone.GetUtcOffset(day.AddHours(12)) != zone.GetUtcOffset(day.AddDays(-1).AddHours(12)))
                yield return DateTime.SpecifyKind(day, DateTimeKind.Unspecified);
    }

    /// <summary>Local wall time to UTC; a time skipped by the spring change moves an hour on, as shops' clocks do.</summary>
    internal static DateTimeOffset LocalToUtc(TimeZoneInfo zone, DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
            local = local.AddHours(1);
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }

    private static void AssignRfmGroups(Shop shop, List<Customer> customers, DateTimeOffset now)
    {
        foreach (var customer in customers)
        {
            var orders = shop.OrdersOf(customer).Where(o => !o.Test).ToList();
            var days = orders.Count == 0 ? int.MaxValue : (now - orders.Max(o => o.ProcessedAt)).TotalDays;
            var first = orders.Count == 0 ? int.MaxValue : (now - orders.Min(o => o.ProcessedAt)).TotalDays;
            customer.Statistics.RfmGroup = orders.Count switch
            {
                0 => "PROSPECTS",
                1 when first <= 30 => "NEW",
                >= 4 when days <= 60 => "CHAMPIONS",
                >= 3 when days <= 120 => "LOYAL",
                >= 2 when days <= 120 => "ACTIVE",
                1 when days <= 120 => "PROMISING",
                >= 3 when days <= 240 => "AT_RISK",
                >= 3 => "PREVIOUSLY_LOYAL",
                _ when days <= 200 => "NEEDS_ATTENTION",
                _ when days <= 300 => "ALMOST_LOST",
                _ => "DORMANT",
            };
            customer.Statistics.PredictedSpendTier = orders.Count >= 3 ? "HIGH" : orders.Count >= 1 ? "MEDIUM" : "LOW";
        }
        // Small shops do not reach every group naturally; tests need every group, so the missing ones are
        // given to customers of the most common group.
        foreach (var group in RfmGroups)
        {
            if (customers.Any(c => c.Statistics.RfmGroup == group))
                continue;
            var common = customers.GroupBy(c => c.Statistics.RfmGroup).OrderByDescending(g => g.Count()).FirstOrDefault(g => g.Count() > 1);
            if (common is not null)
                common.Last().Statistics.RfmGroup = group;
        }
        // Shopify has not scored every customer yet: a few have no group at all, but never a group's last member.
        // Counts are kept as groups change, rather than recounted for every such customer.
        var members = customers.CountBy(c => c.Statistics.RfmGroup ?? NoGroup).ToDictionary();
        for (var i = 7; i < customers.Count; i += 29)
        {
            var group = customers[i].Statistics.RfmGroup ?? NoGroup;
            if (members[group] > 1)
            {
                members[group]--;
                members[NoGroup] = members.GetValueOrDefault(NoGroup) + 1;
                customers[i].Statistics.RfmGroup = null;
            }
        }
    }

    /// <summary>Stands for a null group among dictionary keys.</summary>
    private const string NoGroup = "";

    private static Product NewProduct(Shop shop, int index, DateTimeOffset createdAt)
    {
        var random = shop.Random;
        var title = ProductWords[index % ProductWords.Length] + " " + ProductKinds[(index / ProductWords.Length + index) % ProductKinds.Length];
        var product = new Product
        {
            Id = shop.NextId("Product"),
            Title = title,
            Handle = title.ToLowerInvariant().Replace(' ', '-') + "-" + index,
            Vendor = "Acme",
            ProductType = ProductKinds[(index / ProductWords.Length + index) % ProductKinds.Length],
            Status = index % 11 == 10 ? "ARCHIVED" : "ACTIVE",
            CreatedAt = createdAt,
            UpdatedAt = createdAt.AddDays(random.Next(0, 30)),
            PublishedAt = createdAt,
            DescriptionHtml = "<p>" + title + "</p>",
        };
        var basePrice = random.Next(8, 250) + (random.Next(3) switch { 0 => 0.00m, 1 => 0.99m, _ => 0.50m });
        var variantCount = random.Next(1, 5);
        for (var v = 0; v < variantCount; v++)
        {
            product.Variants.Add(new ProductVariant
            {
                Id = shop.NextId("ProductVariant"),
                ProductRef = product,
                Title = variantCount == 1 ? "Default Title" : Sizes[v],
                Sku = $"SKU-{index:D3}-{v}",
                Price = basePrice + v * 5,
                Position = v + 1,
                InventoryQuantity = random.Next(0, 80),
                CreatedAt = product.CreatedAt,
                UpdatedAt = product.UpdatedAt,
            });
        }
        return product;
    }

    private static Product NewGiftCardProduct(Shop shop, DateTimeOffset createdAt)
    {
        var product = new Product
        {
            Id = shop.NextId("Product"),
            Title = "Gift Card",
            Handle = "gift-card",
            Vendor = "Acme",
            ProductType = "Gift Cards",
            IsGiftCard = true,
            CreatedAt = createdAt,
            UpdatedAt = createdAt,
            PublishedAt = createdAt,
        };
        foreach (var (amount, position) in new[] { (25m, 1), (50m, 2), (100m, 3) })
            product.Variants.Add(new ProductVariant
            {
                Id = shop.NextId("ProductVariant"),
                ProductRef = product,
                Title = "$" + amount,
                Price = amount,
                Position = position,
                Taxable = false,
                CreatedAt = createdAt,
                UpdatedAt = createdAt,
            });
        return product;
    }

    internal static Customer NewCustomer(Shop shop, DateTimeOffset createdAt)
    {
        var random = shop.Random;
        var first = FirstNames[random.Next(FirstNames.Length)];
        var last = LastNames[random.Next(LastNames.Length)];
        var id = shop.NextId("Customer");
        var kind = random.Next(20);
        return new Customer
        {
            Id = id,
            Shop = shop,
            // Some customers have only an email, some only a name and phone, as Shopify allows.
            FirstName = kind == 0 ? null : first,
            LastName = kind is 0 or 1 ? null : last,
            Email = kind == 2 ? null : $"{first}.{last}.{id % 100000}@example.com".ToLowerInvariant().Replace("'", ""),
            Phone = kind is 2 or 3 ? $"+1416555{id % 10000:D4}" : null,
            CreatedAt = createdAt,
            UpdatedAt = createdAt,
            Tags = kind == 4 ? ["wholesale"] : [],
        };
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
