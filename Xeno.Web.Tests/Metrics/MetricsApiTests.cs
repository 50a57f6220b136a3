using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Alba;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Features.Sync;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Metrics;

/// <summary>
/// Xeno's metrics endpoints against <see cref="MetricsExpectations"/>, which computes every figure from the
/// Shopify server's own model: both sides read the same shop, neither reads the other's code.
/// </summary>
[Collection(XenoCollection.Name)]
public sealed partial class MetricsApiTests(XenoFixture fixture)
{
    private IAlbaHost Host => fixture.Host;

    /// <summary>
    /// The generated history ends here, fixed, so the ranges below mean the same thing every day. Every range is
    /// passed explicitly: Xeno's default range is relative to today.
    /// </summary>
    private static readonly DateTimeOffset Now = new(2026, 6, 15, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The last local date with orders: 2026-06-15 00:00 UTC is 06-14 20:00 in New York.</summary>
    private static readonly DateOnly LastDay = new(2026, 6, 14);

    /// <summary>
    /// Strict reading, so that the shape is checked along with the numbers: amounts must be JSON numbers (not
    /// strings), ids strings (a number would not bind), every field present, no field unknown to API.md, and no
    /// null where the API promises a value.
    /// </summary>
    private static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.Strict,
        PropertyNameCaseInsensitive = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    // One 600-order shop, generated, connected and synced once for the ranges below (a sync takes a while).
    private static readonly SemaphoreSlim SyncedGate = new(1, 1);
    private static (Shop Shop, string Token, Guid StoreId)? _synced;

    private async Task<(Shop Shop, string Token, Guid StoreId)> SyncedShopAsync()
    {
        await SyncedGate.WaitAsync();
        try
        {
            if (_synced is { } synced)
                return synced;
            var (shop, shopToken) = GeneratedShop(seed: 42);
            var (_, token) = await fixture.RegisterAsync();
            var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
            var status = await fixture.WaitForSyncAsync(token, store.Id);
            Assert.True(status.State == "idle" && status.LastRun!.Status == "succeeded", status.LastRun?.Error);
            _synced = (shop, token, store.Id);
            return _synced.Value;
        }
        finally
        {
            SyncedGate.Release();
        }
    }

    private (Shop Shop, string Token) GeneratedShop(int seed)
    {
        var domain = $"met-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(seed, 600, new ShopGeneratorOptions { Domain = domain, Name = $"Metrics {seed}", Now = Now });
        var token = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, token);
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        return (shop, token);
    }


    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private async Task<T> GetAsync<T>(string token, string url)
    {
        var result = await Host.Scenario(s =>
        {
            s.Get.Url(url);
            s.WithBearerToken(token);
            s.StatusCodeShouldBeOk();
        });
        Assert.StartsWith("application/json", result.Context.Response.ContentType, StringComparison.Ordinal);
        var body = await result.ReadAsTextAsync();
        return JsonSerializer.Deserialize<T>(body, Strict) ?? throw new InvalidOperationException($"{url} answered null.");
    }

    public static TheoryData<string, string, string> Ranges => new()
    {
        // name, from, to
        { "the last 30 days", "2026-05-16", "2026-06-14" },
        { "90 days across the spring DST change (03-08)", "2026-01-15", "2026-04-14" },
        { "the spring DST day (23 hours)", "2026-03-08", "2026-03-08" },
        { "the autumn DST day (25 hours)", "2025-11-02", "2025-11-02" },
        { "an ordinary day", "2026-02-10", "2026-02-10" },
        { "the whole history, 731 days", Day(LastDay.AddDays(-730)), Day(LastDay) },
        { "a month before the shop had orders", "2024-07-01", "2024-07-31" },
    };

    [Theory]
    [MemberData(nameof(Ranges))]
    public async Task every_range_endpoint_agrees_with_the_shops_own_figures_to_the_cent(string name, string fromText, string toText)
    {
        var (shop, token, storeId) = await SyncedShopAsync();
        var from = DateOnly.ParseExact(fromText, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = DateOnly.ParseExact(toText, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var query = $"from={fromText}&to={toText}";
        var root = $"/api/v1/stores/{storeId}/metrics";

        await AssertRangeAsync(shop, token, root, from, to, query, name);
    }

    private async Task AssertRangeAsync(Shop shop, string token, string root, DateOnly from, DateOnly to, string query, string name,
        IReadOnlyDictionary<long, FormerProduct>? formerProducts = null)
    {
        var summary = await GetAsync<SummaryBody>(token, $"{root}/summary?{query}");
        Assert.Equal(MetricsExpectations.Summary(shop, from, to), summary);

        var daily = await GetAsync<DailyBody>(token, $"{root}/daily?{query}");
        var expectedDaily = MetricsExpectations.Daily(shop, from, to);
        Assert.Equal(expectedDaily.Currency, daily.Currency);
        Assert.Equal(expectedDaily.Days, daily.Days);

        // The default limits (5 and 10), and the largest one, which shows the whole ranking as far as it goes.
        var top = await GetAsync<TopCustomersBody>(token, $"{root}/top-customers?{query}");
        Assert.Equal(MetricsExpectations.TopCustomers(shop, from, to, 5).Items, top.Items);
        var top100 = await GetAsync<TopCustomersBody>(token, $"{root}/top-customers?{query}&limit=100");
        Assert.Equal(MetricsExpectations.TopCustomers(shop, from, to, 100).Items, top100.Items);

        var products = await GetAsync<ProductsBody>(token, $"{root}/products?{query}");
        Assert.Equal(MetricsExpectations.Products(shop, from, to, 10, formerProducts).Items, products.Items);
        var products100 = await GetAsync<ProductsBody>(token, $"{root}/products?{query}&limit=100");
        Assert.Equal(MetricsExpectations.Products(shop, from, to, 100, formerProducts).Items, products100.Items);

        var checkouts = await GetAsync<CheckoutsBody>(token, $"{root}/checkouts?{query}");
        Assert.Equal(MetricsExpectations.Checkouts(shop, from, to), checkouts);

        // The ranges above are meant to be non-trivial (the empty one excepted); say so if the generator changes.
        if (!name.Contains("before the shop", StringComparison.Ordinal))
            Assert.True(summary.Orders > 0, $"{name}: no orders in {from}..{to}; pick another range.");
    }

    public static TheoryData<string> AsOfDates => new() { "2026-06-14", "2026-03-08", "2025-11-02", "2025-06-01", "2024-07-01" };

    [Theory]
    [MemberData(nameof(AsOfDates))]
    public async Task segments_agree_with_the_shops_own_figures(string asOfText)
    {
        var (shop, token, storeId) = await SyncedShopAsync();
        var asOf = DateOnly.ParseExact(asOfText, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var segments = await GetAsync<SegmentsBody>(token, $"/api/v1/stores/{storeId}/metrics/segments?asOf={asOfText}");
        AssertSegments(MetricsExpectations.Segments(shop, asOf), segments);
    }

    /// <summary>
    /// API.md fixes neither the order of the segments nor that of the RFM groups, so both are compared as sets;
    /// all three segments must be there, and an RFM group reported with no customers is taken as left out.
    /// </summary>
    private static void AssertSegments(SegmentsBody expected, SegmentsBody actual)
    {
        Assert.Equal(expected.AsOf, actual.AsOf);
        Assert.Equal(expected.Segments.OrderBy(s => s.Name, StringComparer.Ordinal), actual.Segments.OrderBy(s => s.Name, StringComparer.Ordinal));
        Assert.Equal(expected.Prospects, actual.Prospects);
        Assert.Equal(expected.Rfm.OrderBy(r => r.Group, StringComparer.Ordinal),
            actual.Rfm.Where(r => r.Customers != 0).OrderBy(r => r.Group, StringComparer.Ordinal));
    }

    [Fact]
    public async Task the_generated_shop_has_what_the_ranges_are_meant_to_exercise()
    {
        var (shop, _, _) = await SyncedShopAsync();
        var counted = shop.Orders.Where(o => !o.Test).ToList();
        Assert.Contains(shop.Orders, o => o.Test);
        Assert.Contains(counted, o => o.CancelledAt is not null && o.Refunds.Count > 0);
        Assert.Contains(counted, o => o.LineItems.Any(l => l.IsGiftCard));
        Assert.Contains(counted, o => o.LineItems.Any(l => l.Product is null));
        Assert.Contains(counted, o => o.PresentmentCurrencyCode != o.CurrencyCode);
        Assert.Contains(counted, o => o.Refunds.Any(r => MetricsExpectations.LocalDate(shop, r.CreatedAt) != MetricsExpectations.LocalDate(shop, o.ProcessedAt)));
        // Orders whose UTC date differs from their local date, in both DST regimes.
        Assert.Contains(counted, o => o.ProcessedAt.UtcDateTime.Date != MetricsExpectations.LocalDate(shop, o.ProcessedAt).ToDateTime(TimeOnly.MinValue)
            && shop.TimeZone.IsDaylightSavingTime(o.ProcessedAt));
        Assert.Contains(counted, o => o.ProcessedAt.UtcDateTime.Date != MetricsExpectations.LocalDate(shop, o.ProcessedAt).ToDateTime(TimeOnly.MinValue)
            && !shop.TimeZone.IsDaylightSavingTime(o.ProcessedAt));
        Assert.Contains(shop.AbandonedCheckouts, c => c.CompletedAt is not null);
        Assert.Contains(shop.Customers, c => c.Statistics.RfmGroup is null);
    }

    [Fact]
    public async Task after_webhooks_change_the_shop_every_figure_follows()
    {
        var (shop, shopToken) = GeneratedShop(seed: 43);
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken, apiSecret: XenoFixture.WebhookSecret);
        await fixture.WaitForSyncAsync(token, store.Id);

        var zone = shop.TimeZone;
        DateTimeOffset Local(int month, int day, int hour, int minute)
        {
            var local = new DateTime(2026, month, day, hour, minute, 0, DateTimeKind.Unspecified);
            return new DateTimeOffset(local, zone.GetUtcOffset(local));
        }
        // A new order late on the last day (the next day in UTC), and a refund on an older order.
        var customer = shop.Orders.Where(o => o.Customer is not null && !o.Test).OrderBy(o => o.ProcessedAt).First().Customer!;
        shop.PlaceOrder(new NewOrder { Customer = customer, ProcessedAt = Local(6, 14, 23, 40) });
        var refunded = shop.Orders.Where(o => !o.Test && o.CancelledAt is null && o.Refunds.Count == 0 && o.LineItems.Any(l => !l.IsGiftCard))
            .OrderBy(o => o.ProcessedAt).Last(o => MetricsExpectations.LocalDate(shop, o.ProcessedAt) < new DateOnly(2026, 6, 1));
        shop.AddRefund(refunded.Id, quantity: 1, refundShipping: true, createdAt: Local(6, 10, 9, 0));
        shop.DeleteOrder(shop.Orders.Where(o => !o.Test && o.Id != refunded.Id)
            .Last(o => MetricsExpectations.LocalDate(shop, o.ProcessedAt) < new DateOnly(2026, 6, 10)).Id);
        // METRICS: a deleted product keeps its past sales under its id and last known title. Renamed, then
        // deleted; no order of it changes afterwards.
        var sold = shop.Orders.Where(o => !o.Test).SelectMany(o => o.LineItems).Where(l => l.Product is { IsGiftCard: false })
            .GroupBy(l => l.Product!.Id).OrderByDescending(g => g.Count()).First().Key;
        shop.UpdateProduct(sold, p => p.Title += " (retired)");
        var formerProducts = MetricsExpectations.CaptureLineProducts(shop);
        shop.DeleteProduct(sold);

        await fixture.Shopify.State.FlushWebhooksAsync();
        Assert.All(fixture.Shopify.State.WebhookDeliveries.Where(d => d.ShopDomain == shop.MyshopifyDomain), d => Assert.Equal(200, d.StatusCode));
        for (var i = 0; i < 400 && Convert.ToInt64(await fixture.ScalarAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"), CultureInfo.InvariantCulture) > 0; i++)
            await Task.Delay(50);

        var root = $"/api/v1/stores/{store.Id}/metrics";
        foreach (var (from, to) in new[] { (new DateOnly(2026, 5, 16), LastDay), (LastDay.AddDays(-730), LastDay) })
            await AssertRangeAsync(shop, token, root, from, to, $"from={Day(from)}&to={Day(to)}", $"{from}..{to} after changes", formerProducts);
        var products = await GetAsync<ProductsBody>(token, $"{root}/products?from={Day(LastDay.AddDays(-730))}&to={Day(LastDay)}&limit=100");
        Assert.Contains(products.Items, p => p.ProductId == sold.ToString(CultureInfo.InvariantCulture) && p.Title.EndsWith(" (retired)", StringComparison.Ordinal));
        AssertSegments(MetricsExpectations.Segments(shop, LastDay),
            await GetAsync<SegmentsBody>(token, $"{root}/segments?asOf={Day(LastDay)}"));
    }

    public static TheoryData<string> BadQueries => new()
    {
        "summary?from=2026-03-02&to=2026-03-01", // from after to
        "daily?from=2026-03-02&to=2026-03-01",
        "summary?from=2026-02-30&to=2026-03-01", // no such date
        "summary?from=03/01/2026&to=2026-03-10", // not yyyy-MM-dd
        "daily?from=yesterday&to=2026-03-10",
        "checkouts?from=2026-03-01&to=2026-3-10",
        $"summary?from={Day(LastDay.AddDays(-731))}&to={Day(LastDay)}", // 732 days
        $"daily?from={Day(LastDay.AddDays(-731))}&to={Day(LastDay)}",
        $"products?from={Day(LastDay.AddDays(-731))}&to={Day(LastDay)}",
        "top-customers?from=2026-03-01&to=2026-03-10&limit=0",
        "top-customers?from=2026-03-01&to=2026-03-10&limit=101",
        "products?from=2026-03-01&to=2026-03-10&limit=0",
        "products?from=2026-03-01&to=2026-03-10&limit=101",
        "products?from=2026-03-01&to=2026-03-10&limit=ten",
        "segments?asOf=2026-13-01",
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task a_bad_range_date_or_limit_answers_400_problem_json(string pathAndQuery)
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        await Host.Scenario(s =>
        {
            s.Get.Url($"/api/v1/stores/{store.Id}/metrics/{pathAndQuery}");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(400);
            s.ContentTypeShouldBe("application/problem+json");
        });
    }

    [Fact]
    public async Task the_bounds_themselves_are_accepted()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        foreach (var pathAndQuery in new[]
        {
            $"summary?from={Day(LastDay.AddDays(-730))}&to={Day(LastDay)}",
            "top-customers?from=2026-03-01&to=2026-03-10&limit=1",
            "top-customers?from=2026-03-01&to=2026-03-10&limit=100",
            "products?from=2026-03-01&to=2026-03-10&limit=1",
            "products?from=2026-03-01&to=2026-03-10&limit=100",
            "checkouts?from=2026-03-01&to=2026-03-01",
        })
            await Host.Scenario(s =>
            {
                s.Get.Url($"/api/v1/stores/{store.Id}/metrics/{pathAndQuery}");
                s.WithBearerToken(token);
                s.StatusCodeShouldBeOk();
            });
    }

    [Fact]
    public async Task another_users_store_answers_404_on_every_metrics_endpoint()
    {
        var (_, alice) = await fixture.RegisterAsync();
        var (_, bob) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(alice, domain, shopToken);
        const string range = "from=2026-03-01&to=2026-03-10";
        foreach (var path in new[] { $"summary?{range}", $"daily?{range}", $"top-customers?{range}", $"products?{range}", $"checkouts?{range}", "segments?asOf=2026-03-10" })
        {
            await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}/metrics/{path}"); s.WithBearerToken(bob); s.StatusCodeShouldBe(404); });
            // And the owner gets 200, so the 404 is about tenancy, not a missing route.
            await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}/metrics/{path}"); s.WithBearerToken(alice); s.StatusCodeShouldBeOk(); });
        }
    }
}
