using System.Globalization;
using System.Text;
using System.Text.Json;
using Alba;
using CsvHelper;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Metrics;

/// <summary>
/// Comparisons, cohorts, the overview and CSV (issue 11), against <see cref="MetricsExpectations"/> as the other metrics
/// tests are: the 600-order shop for ranges of ordinary data, and a small shop made by hand for the cases METRICS.md singles
/// out (29 February, DST, a cohort that comes back only later, refunds booked in a later month, guests).
/// </summary>
public sealed partial class MetricsApiTests
{
    public static TheoryData<string, string, string, string> CompareRanges => new()
    {
        // name, from, to, compare
        { "the last 30 days against the year before", "2026-05-16", "2026-06-14", "year" },
        { "the last 30 days against the 30 before", "2026-05-16", "2026-06-14", "previous" },
        { "90 days across the spring DST change, against the 90 before", "2026-01-15", "2026-04-14", "previous" },
        { "the week after the spring DST change against the week holding it", "2026-03-09", "2026-03-15", "previous" },
        { "the autumn DST day (25 hours) against the day before", "2025-11-02", "2025-11-02", "previous" },
        { "a day whose year-earlier date has no orders yet (changes null)", "2026-03-08", "2026-03-08", "year" },
    };

    [Theory]
    [MemberData(nameof(CompareRanges))]
    public async Task compare_adds_the_comparison_range_to_every_range_endpoint_to_the_cent(string name, string fromText, string toText, string compare)
    {
        var (shop, token, storeId) = await SyncedShopAsync();
        await AssertComparedAsync(shop, token, storeId, fromText, toText, compare, name);
    }

    private async Task AssertComparedAsync(Shop shop, string token, Guid storeId, string fromText, string toText, string compare, string name)
    {
        var from = DateOnly.ParseExact(fromText, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = DateOnly.ParseExact(toText, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var root = $"/api/v1/stores/{storeId}/metrics";
        var query = $"from={fromText}&to={toText}&compare={compare}";

        var summary = await GetAsync<SummaryComparedBody>(token, $"{root}/summary?{query}");
        Assert.Equal(MetricsExpectations.SummaryCompared(shop, from, to, compare), summary);

        var daily = await GetAsync<DailyComparedBody>(token, $"{root}/daily?{query}");
        var expectedDaily = MetricsExpectations.DailyCompared(shop, from, to, compare);
        Assert.Equal(expectedDaily.Days, daily.Days);
        Assert.Equal((expectedDaily.Comparison.From, expectedDaily.Comparison.To), (daily.Comparison.From, daily.Comparison.To));
        Assert.Equal(expectedDaily.Comparison.Days, daily.Comparison.Days);

        foreach (var limit in new[] { 5, 100 })
        {
            var top = await GetAsync<TopCustomersComparedBody>(token, $"{root}/top-customers?{query}&limit={limit}");
            Assert.Equal(MetricsExpectations.TopCustomersCompared(shop, from, to, limit, compare), top.Items);
            var products = await GetAsync<ProductsComparedBody>(token, $"{root}/products?{query}&limit={limit}");
            Assert.Equal(MetricsExpectations.ProductsCompared(shop, from, to, limit, compare), products.Items);
        }

        var checkouts = await GetAsync<CheckoutsComparedBody>(token, $"{root}/checkouts?{query}");
        Assert.Equal(MetricsExpectations.CheckoutsCompared(shop, from, to, compare), checkouts);
        Assert.True(summary.Orders > 0, $"{name}: no orders in {from}..{to}; pick another range.");
    }

    // ---- A shop made by hand (New York), for what METRICS.md singles out ----

    /// <summary>
    /// Ada and Bob join in February 2024 (Bob on the 29th); Dee in January 2025, and she orders again only in March and May
    /// 2025, while her January order is refunded in February (a month with no order of hers) and her May order in June;
    /// Cy joins on 28 February 2025 and orders again at 23:30 on the spring DST day (9 March 2025, 03:30 UTC on the 10th).
    /// Guests order in February 2024, January and March 2025: they are in sales, in no cohort.
    /// Prices: A 100.00, B 40.00; no tax, shipping or discount.
    /// </summary>
    private sealed class HandShop
    {
        public Shop Shop { get; }
        public Product A { get; }
        public Product B { get; }

        public HandShop(string domain)
        {
            Shop = ShopGenerator.Generate(7, 0, new ShopGeneratorOptions
            {
                Domain = domain,
                Name = "Hand made",
                Now = new DateTimeOffset(2025, 6, 20, 0, 0, 0, TimeSpan.Zero),
                Days = 600,
                CustomerCount = 0,
                AbandonedCheckoutCount = 0,
            });
            var products = Shop.Products.Where(p => !p.IsGiftCard && p.Status == "ACTIVE").OrderBy(p => p.Id).ToList();
            A = Shop.UpdateProduct(products[0].Id, p => p.Variants[0].Price = 100m);
            B = Shop.UpdateProduct(products[1].Id, p => p.Variants[0].Price = 40m);

            var ada = Customer("Ada", new(2024, 1, 2));
            var bob = Customer("Bob", new(2024, 1, 2));
            var cy = Customer("Cy", new(2024, 1, 2));
            var dee = Customer("Dee", new(2024, 1, 2));

            Order(ada, Local(2024, 2, 28, 12), A, 1);
            Order(bob, Local(2024, 2, 29, 12), B, 1);
            Order(null, Local(2024, 2, 29, 18), A, 1);
            Order(null, Local(2024, 3, 1, 9), B, 2);
            var deeFirst = Order(dee, Local(2025, 1, 20, 10), A, 2);
            Order(null, Local(2025, 1, 21, 10), B, 1);
            Shop.AddRefund(deeFirst.Id, quantity: 1, createdAt: Local(2025, 2, 10, 11));
            Order(cy, Local(2025, 2, 28, 12), A, 2);
            Order(ada, Local(2025, 3, 1, 10), B, 1);
            Order(cy, Local(2025, 3, 9, 23, 30), B, 1);
            Order(dee, Local(2025, 3, 12, 10), B, 1);
            Order(null, Local(2025, 3, 13, 10), A, 1);
            var deeMay = Order(dee, Local(2025, 5, 15, 10), A, 1);
            Shop.AddRefund(deeMay.Id, quantity: 1, createdAt: Local(2025, 6, 2, 10));
        }

        private Customer Customer(string name, DateOnly created) => Shop.AddCustomer(c =>
        {
            c.FirstName = name;
            c.LastName = "Hand";
            c.Email = $"{name.ToLowerInvariant()}@example.com";
            c.CreatedAt = Local(created.Year, created.Month, created.Day, 9);
        });

        private Order Order(Customer? customer, DateTimeOffset at, Product product, int quantity) => Shop.PlaceOrder(new NewOrder
        {
            Customer = customer,
            ProcessedAt = at,
            Lines = [(product.Variants[0].Id, quantity)],
            DiscountPercent = 0m,
            TaxRate = 0m,
            Shipping = 0m,
        });

        private DateTimeOffset Local(int year, int month, int day, int hour, int minute = 0)
        {
            var local = new DateTime(year, month, day, hour, minute, 0, DateTimeKind.Unspecified);
            return new DateTimeOffset(local, Shop.TimeZone.GetUtcOffset(local));
        }
    }

    private static readonly SemaphoreSlim HandGate = new(1, 1);
    private static (Shop Shop, string Token, Guid StoreId)? _hand;

    private async Task<(Shop Shop, string Token, Guid StoreId)> HandShopAsync()
    {
        await HandGate.WaitAsync();
        try
        {
            if (_hand is { } hand) return hand;
            var shop = new HandShop($"hand-{Guid.NewGuid():N}"[..16] + ".myshopify.com").Shop;
            var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
            fixture.Shopify.State.AddShop(shop, shopToken);
            shop.RateLimit.Configure(1_000_000, 1_000_000);
            var (_, token) = await fixture.RegisterAsync();
            var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
            var status = await fixture.WaitForSyncAsync(token, store.Id);
            Assert.True(status.State == "idle" && status.LastRun!.Status == "succeeded", status.LastRun?.Error);
            _hand = (shop, token, store.Id);
            return _hand.Value;
        }
        finally
        {
            HandGate.Release();
        }
    }

    [Fact]
    public void the_hand_made_shop_is_what_its_description_says()
    {
        var shop = new HandShop("hand-check.myshopify.com").Shop;
        var cohorts = MetricsExpectations.Cohorts(shop, new DateOnly(2025, 6, 14), 18);
        CohortRow Of(string month) => cohorts.Cohorts.Single(c => c.Month == month);
        // February 2024: Ada and Bob (29 February); the guest of that month is in no cohort.
        Assert.Equal(2, Of("2024-02").Customers);
        Assert.Equal(new CohortPeriod(0, 2, 1m, 140m, 70m, false), Of("2024-02").Periods[0]);
        // Dee alone in January 2025: 200 in January, the refund of 100 in February (no order then), back in March and May,
        // the May order refunded in June (asOf's month, partial).
        var dee = Of("2025-01");
        Assert.Equal(1, dee.Customers);
        Assert.Equal(
        [
            new CohortPeriod(0, 1, 1m, 200m, 200m, false),
            new CohortPeriod(1, 0, 0m, -100m, 100m, false),
            new CohortPeriod(2, 1, 1m, 40m, 140m, false),
            new CohortPeriod(3, 0, 0m, 0m, 140m, false),
            new CohortPeriod(4, 1, 1m, 100m, 240m, false),
            new CohortPeriod(5, 0, 0m, -100m, 140m, true),
        ], dee.Periods);
        // Cy's second order at 23:30 on the DST day is still March 9th locally.
        Assert.Equal(new CohortPeriod(1, 1, 1m, 40m, 240m, false), Of("2025-02").Periods[1]);
        Assert.All(cohorts.Cohorts.Where(c => c.Month is not ("2024-02" or "2025-01" or "2025-02")), c => Assert.Equal(0, c.Customers));
    }

    public static TheoryData<string, int> CohortAsOf => new()
    {
        { "2025-06-14", 18 }, // asOf's month partial; the oldest cohort is February 2024's
        { "2025-05-31", 12 }, // asOf is its month's last day: nothing partial; the June refund is after asOf
        { "2025-02-15", 1 },  // a single month, Dee's refund in it counted, Cy not yet a customer
        { "2025-03-09", 36 }, // the DST day: Cy's order at 23:30 counts
    };

    [Theory]
    [MemberData(nameof(CohortAsOf))]
    public async Task cohorts_agree_with_the_shops_own_figures_guests_in_none_refunds_in_the_month_they_are_booked(string asOfText, int months)
    {
        var (shop, token, storeId) = await HandShopAsync();
        var asOf = DateOnly.ParseExact(asOfText, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var body = await GetAsync<CohortsBody>(token, $"/api/v1/stores/{storeId}/metrics/cohorts?asOf={asOfText}&months={months}");
        AssertCohorts(MetricsExpectations.Cohorts(shop, asOf, months), body);
    }

    [Fact]
    public async Task cohorts_of_the_600_order_shop_agree_to_the_cent_and_default_to_12_months()
    {
        var (shop, token, storeId) = await SyncedShopAsync();
        AssertCohorts(MetricsExpectations.Cohorts(shop, LastDay, 12),
            await GetAsync<CohortsBody>(token, $"/api/v1/stores/{storeId}/metrics/cohorts?asOf={Day(LastDay)}"));
        AssertCohorts(MetricsExpectations.Cohorts(shop, new DateOnly(2026, 3, 31), 36),
            await GetAsync<CohortsBody>(token, $"/api/v1/stores/{storeId}/metrics/cohorts?asOf=2026-03-31&months=36"));
    }

    private static void AssertCohorts(CohortsBody expected, CohortsBody actual)
    {
        Assert.Equal(expected.AsOf, actual.AsOf);
        Assert.Equal(expected.Cohorts.Select(c => (c.Month, c.Customers)), actual.Cohorts.Select(c => (c.Month, c.Customers)));
        foreach (var (e, a) in expected.Cohorts.Zip(actual.Cohorts))
            Assert.Equal(e.Periods, a.Periods);
    }

    public static TheoryData<string, string, string> HandCompareRanges => new()
    {
        // from, to, compare
        { "2024-02-29", "2024-02-29", "year" },     // 29 February against 28 February 2023 (nothing then: changes null)
        { "2025-02-01", "2025-02-28", "year" },     // against 2024-02-01..2024-02-28: Bob's 29 February left out
        { "2025-02-01", "2025-03-01", "year" },     // 29 days against 30: 2024-02-01..2024-03-01 holds 29 February
        { "2024-02-01", "2024-02-29", "previous" }, // 29 days against 2024-01-03..2024-01-31
        { "2025-03-10", "2025-03-16", "previous" }, // against the week holding the DST day and Cy's 23:30 order
        { "2025-06-01", "2025-06-14", "previous" }, // a refund of a May order booked in June, against the May days before
    };

    [Theory]
    [MemberData(nameof(HandCompareRanges))]
    public async Task compare_across_29_february_and_dst_agrees_to_the_cent(string fromText, string toText, string compare)
    {
        var (shop, token, storeId) = await HandShopAsync();
        var from = DateOnly.ParseExact(fromText, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = DateOnly.ParseExact(toText, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var root = $"/api/v1/stores/{storeId}/metrics";
        var query = $"from={fromText}&to={toText}&compare={compare}";
        Assert.Equal(MetricsExpectations.SummaryCompared(shop, from, to, compare), await GetAsync<SummaryComparedBody>(token, $"{root}/summary?{query}"));
        var daily = await GetAsync<DailyComparedBody>(token, $"{root}/daily?{query}");
        var expected = MetricsExpectations.DailyCompared(shop, from, to, compare);
        Assert.Equal(expected.Days, daily.Days);
        Assert.Equal((expected.Comparison.From, expected.Comparison.To), (daily.Comparison.From, daily.Comparison.To));
        Assert.Equal(expected.Comparison.Days, daily.Comparison.Days);
        Assert.Equal(MetricsExpectations.TopCustomersCompared(shop, from, to, 100, compare),
            (await GetAsync<TopCustomersComparedBody>(token, $"{root}/top-customers?{query}&limit=100")).Items);
        Assert.Equal(MetricsExpectations.ProductsCompared(shop, from, to, 100, compare),
            (await GetAsync<ProductsComparedBody>(token, $"{root}/products?{query}&limit=100")).Items);
        Assert.Equal(MetricsExpectations.CheckoutsCompared(shop, from, to, compare), await GetAsync<CheckoutsComparedBody>(token, $"{root}/checkouts?{query}"));
    }

    [Fact]
    public void comparison_ranges_follow_metrics_md()
    {
        static DateOnly D(int y, int m, int d) => new(y, m, d);
        Assert.Equal((D(2023, 2, 28), D(2023, 2, 28)), MetricsExpectations.ComparisonRange(D(2024, 2, 29), D(2024, 2, 29), "year"));
        Assert.Equal((D(2024, 1, 3), D(2024, 1, 31)), MetricsExpectations.ComparisonRange(D(2024, 2, 1), D(2024, 2, 29), "previous"));
        Assert.Equal((D(2024, 2, 1), D(2024, 3, 1)), MetricsExpectations.ComparisonRange(D(2025, 2, 1), D(2025, 3, 1), "year"));
        Assert.Null(MetricsExpectations.Change(5m, 0m));
        Assert.Equal(-0.3333m, MetricsExpectations.Change(2m, 3m));
    }

    // ---- CSV ----

    /// <summary>Every endpoint's CSV, asked both ways (format=csv, and Accept: text/csv), parses back to its JSON.</summary>
    [Fact]
    public async Task every_metrics_endpoint_answers_csv_that_parses_back_to_its_json()
    {
        var (_, token, storeId) = await HandShopAsync();
        var root = $"/api/v1/stores/{storeId}/metrics";
        const string range = "from=2025-02-01&to=2025-03-31";
        foreach (var (path, shape) in new (string, string)[]
        {
            ($"summary?{range}", "one"), ($"summary?{range}&compare=year", "one"),
            ($"checkouts?{range}", "one"), ($"checkouts?{range}&compare=previous", "one"),
            ($"daily?{range}", "days"), ($"daily?from=2024-02-01&to=2024-02-29&compare=year", "days"), ($"daily?from=2025-02-01&to=2025-03-01&compare=year", "days"),
            ($"top-customers?{range}&limit=100", "items"), ($"top-customers?{range}&compare=previous", "items"),
            ($"products?{range}", "items"), ($"products?{range}&compare=year", "items"),
            ("top-customers?from=2023-01-01&to=2023-01-31", "items"), // no items: the header alone
            ("segments?asOf=2025-06-14", "segments"),
            ("cohorts?asOf=2025-06-14&months=18", "cohorts"),
        })
        {
            var json = await GetJsonAsync(token, $"{root}/{path}");
            var viaFormat = await GetCsvAsync(token, $"{root}/{path}&format=csv", accept: "application/json");
            var viaAccept = await GetCsvAsync(token, $"{root}/{path}", accept: "text/csv");
            Assert.Equal(viaFormat.Text, viaAccept.Text);
            Assert.StartsWith("attachment", viaFormat.Disposition, StringComparison.Ordinal);
            Assert.Contains("hand-", viaFormat.Disposition, StringComparison.Ordinal); // names the store
            Assert.Contains(path.Contains("asOf", StringComparison.Ordinal) ? "2025-06-14" : path.Split("from=")[1][..10], viaFormat.Disposition, StringComparison.Ordinal);
            AssertCsvMatchesJson(shape, json, viaFormat.Rows, viaFormat.Header, path);
        }
    }

    private static void AssertCsvMatchesJson(string shape, JsonElement json, List<Dictionary<string, string>> rows, IReadOnlyList<string> header, string path)
    {
        switch (shape)
        {
            case "one":
                var row = Assert.Single(rows);
                AssertCells(row, json, "", path);
                if (json.TryGetProperty("comparison", out var comparison)) AssertCells(row, comparison, "comparison", path);
                if (json.TryGetProperty("change", out var change)) AssertCells(row, change, "change", path);
                // Every column comes from the JSON: none left over.
                Assert.Equal(header.Count, Scalars(json).Count() + (json.TryGetProperty("comparison", out var c1) ? Scalars(c1).Count() : 0)
                    + (json.TryGetProperty("change", out var c2) ? Scalars(c2).Count() : 0));
                break;
            case "days":
                var days = json.GetProperty("days").EnumerateArray().ToList();
                var earlier = json.TryGetProperty("comparison", out var cmp) ? cmp.GetProperty("days").EnumerateArray().ToList() : [];
                Assert.Equal(Math.Max(days.Count, earlier.Count), rows.Count);
                for (var i = 0; i < rows.Count; i++)
                {
                    Assert.Equal(json.GetProperty("currency").GetString(), rows[i]["currency"]);
                    if (i < days.Count) AssertCells(rows[i], days[i], "", path);
                    if (i < earlier.Count) AssertCells(rows[i], earlier[i], "comparison", path);
                    if (i >= days.Count) Assert.Equal("", rows[i]["date"]);
                    if (cmp.ValueKind == JsonValueKind.Object && i >= earlier.Count) Assert.Equal("", rows[i]["comparisonDate"]);
                }
                break;
            case "items":
                var items = json.GetProperty("items").EnumerateArray().ToList();
                Assert.Equal(items.Count, rows.Count);
                for (var i = 0; i < rows.Count; i++) AssertCells(rows[i], items[i], "", path);
                Assert.Contains("netSales", header);
                break;
            case "segments":
                var segments = json.GetProperty("segments").EnumerateArray().ToList();
                var rfm = json.GetProperty("rfm").EnumerateArray().ToList();
                Assert.Equal(segments.Count + 1 + rfm.Count, rows.Count);
                for (var i = 0; i < segments.Count; i++)
                {
                    Assert.Equal("segment", rows[i]["kind"]);
                    AssertCells(rows[i], segments[i], "", path);
                }
                Assert.Equal(("prospects", json.GetProperty("prospects").GetInt32()), (rows[segments.Count]["kind"], int.Parse(rows[segments.Count]["customers"], CultureInfo.InvariantCulture)));
                for (var i = 0; i < rfm.Count; i++)
                {
                    var r = rows[segments.Count + 1 + i];
                    Assert.Equal(("rfm", rfm[i].GetProperty("group").GetString(), rfm[i].GetProperty("customers").GetInt32()),
                        (r["kind"], (string?)r["name"], int.Parse(r["customers"], CultureInfo.InvariantCulture)));
                }
                break;
            case "cohorts":
                var flat = json.GetProperty("cohorts").EnumerateArray()
                    .SelectMany(c => c.GetProperty("periods").EnumerateArray().Select(p => (Cohort: c, Period: p))).ToList();
                Assert.Equal(flat.Count, rows.Count);
                for (var i = 0; i < rows.Count; i++)
                {
                    Assert.Equal(json.GetProperty("asOf").GetString(), rows[i]["asOf"]);
                    AssertCells(rows[i], flat[i].Cohort, "", path);
                    AssertCells(rows[i], flat[i].Period, "", path);
                }
                break;
        }
    }

    private static IEnumerable<JsonProperty> Scalars(JsonElement element) =>
        element.EnumerateObject().Where(p => p.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array));

    /// <summary>Each scalar field of the JSON object is the CSV column of its (prefixed) name: numbers as the same number,
    /// text as the same text, null as an empty field.</summary>
    private static void AssertCells(Dictionary<string, string> row, JsonElement element, string prefix, string path)
    {
        foreach (var field in Scalars(element))
        {
            var column = prefix.Length == 0 ? field.Name : prefix + char.ToUpperInvariant(field.Name[0]) + field.Name[1..];
            Assert.True(row.ContainsKey(column), $"{path}: no column {column}");
            var cell = row[column];
            switch (field.Value.ValueKind)
            {
                case JsonValueKind.Number:
                    Assert.Equal(field.Value.GetDecimal(), decimal.Parse(cell, NumberStyles.Number, CultureInfo.InvariantCulture));
                    // The same text as the JSON, so that 12.50 stays 12.50.
                    Assert.Equal(field.Value.GetRawText(), cell);
                    break;
                case JsonValueKind.String: Assert.Equal(field.Value.GetString(), cell); break;
                case JsonValueKind.Null: Assert.Equal("", cell); break;
                case JsonValueKind.True: Assert.Equal("true", cell); break;
                case JsonValueKind.False: Assert.Equal("false", cell); break;
            }
        }
    }

    private async Task<JsonElement> GetJsonAsync(string token, string url)
    {
        var result = await Host.Scenario(s => { s.Get.Url(url); s.WithBearerToken(token); s.StatusCodeShouldBeOk(); });
        Assert.StartsWith("application/json", result.Context.Response.ContentType, StringComparison.Ordinal);
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
    }

    private async Task<(string Text, string Disposition, IReadOnlyList<string> Header, List<Dictionary<string, string>> Rows)> GetCsvAsync(
        string token, string url, string accept)
    {
        var result = await Host.Scenario(s =>
        {
            s.Get.Url(url);
            s.WithBearerToken(token);
            s.WithRequestHeader("Accept", accept);
            s.StatusCodeShouldBeOk();
        });
        Assert.StartsWith("text/csv", result.Context.Response.ContentType, StringComparison.Ordinal);
        var text = await result.ReadAsTextAsync();
        // RFC 4180: records end with CRLF.
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        using var reader = CsvReader.Create(Encoding.UTF8.GetBytes(text), CsvReaderOptions.Default);
        var header = reader.Headers.ToList();
        var rows = new List<Dictionary<string, string>>();
        while (reader.Read())
            rows.Add(header.Select((name, i) => (name, value: reader.GetString(i) ?? "")).ToDictionary(c => c.name, c => c.value));
        return (text, result.Context.Response.Headers.ContentDisposition.ToString(), header, rows);
    }

    [Fact]
    public async Task csv_escapes_text_that_a_spreadsheet_would_run_as_a_formula()
    {
        // A small shop of its own: its customer's name changes before Xeno first reads it.
        var shop = ShopGenerator.Generate(44, 40, new ShopGeneratorOptions
        {
            Domain = $"csv-{Guid.NewGuid():N}"[..16] + ".myshopify.com", Now = new DateTimeOffset(2026, 6, 15, 0, 0, 0, TimeSpan.Zero), Days = 90,
        });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, shopToken);
        var customer = shop.Orders.First(o => o.Customer is not null && !o.Test).Customer!;
        shop.UpdateCustomer(customer.Id, c => { c.FirstName = "=HYPERLINK(\"http://evil\")"; c.LastName = null; });
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id);
        var csv = await GetCsvAsync(token, $"/api/v1/stores/{store.Id}/metrics/top-customers?from={Day(LastDay.AddDays(-120))}&to={Day(LastDay)}&limit=100&format=csv", "*/*");
        var row = csv.Rows.Single(r => r["customerId"] == customer.Id.ToString(CultureInfo.InvariantCulture));
        Assert.Equal("'=HYPERLINK(\"http://evil\")", row["name"]);
        // Negative amounts are numbers, not formulas: left as they are.
        Assert.DoesNotContain(csv.Rows, r => r["netSales"].StartsWith('\''));
    }

    // ---- Overview ----

    [Fact]
    public async Task overview_shows_every_store_of_the_account_with_totals_per_currency_and_never_another_accounts_store()
    {
        var now = new DateTimeOffset(2026, 6, 15, 0, 0, 0, TimeSpan.Zero);
        Shop Make(int seed, string currency, string zone)
        {
            var shop = ShopGenerator.Generate(seed, 40, new ShopGeneratorOptions
            {
                Domain = $"ovr-{Guid.NewGuid():N}"[..16] + ".myshopify.com", Name = $"Overview {seed}", CurrencyCode = currency,
                IanaTimezone = zone, Now = now, Days = 90,
            });
            shop.RateLimit.Configure(1_000_000, 1_000_000);
            return shop;
        }
        var euro = Make(51, "EUR", "Europe/Berlin");
        var dollars = Make(52, "USD", "America/New_York");
        var moreDollars = Make(53, "USD", "America/Los_Angeles");
        var theirs = Make(54, "USD", "America/New_York");

        var (_, token) = await fixture.RegisterAsync();
        var (_, other) = await fixture.RegisterAsync();
        var mine = new List<(Guid, Shop)>();
        foreach (var shop in new[] { euro, dollars, moreDollars })
        {
            var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
            fixture.Shopify.State.AddShop(shop, shopToken);
            var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
            await fixture.WaitForSyncAsync(token, store.Id);
            mine.Add((store.Id, shop));
        }
        var theirToken = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(theirs, theirToken);
        var theirStore = await fixture.ConnectStoreAsync(other, theirs.MyshopifyDomain, theirToken);
        await fixture.WaitForSyncAsync(other, theirStore.Id);

        foreach (var compare in new string?[] { null, "previous", "year" })
        {
            var (from, to) = (new DateOnly(2026, 5, 1), new DateOnly(2026, 6, 14));
            var url = $"/api/v1/metrics/overview?from={Day(from)}&to={Day(to)}" + (compare is null ? "" : $"&compare={compare}");
            var body = await GetAsync<OverviewBody>(token, url);
            var expected = MetricsExpectations.Overview(mine, from, to, compare);
            Assert.Equal(expected.Items.OrderBy(i => i.StoreId), body.Items.OrderBy(i => i.StoreId));
            Assert.Equal(expected.Totals, body.Totals);
            Assert.DoesNotContain(body.Items, i => i.StoreId == theirStore.Id);
            Assert.Equal(2, body.Totals.Single(t => t.Currency == "USD").Stores);

            var csv = await GetCsvAsync(token, url + (url.Contains('?') ? "&" : "?") + "format=csv", "application/json");
            var json = await GetJsonAsync(token, url);
            var items = json.GetProperty("items").EnumerateArray().ToList();
            var totals = json.GetProperty("totals").EnumerateArray().ToList();
            Assert.Equal(items.Count + totals.Count, csv.Rows.Count);
            for (var i = 0; i < items.Count; i++)
            {
                Assert.Equal("store", csv.Rows[i]["kind"]);
                AssertCells(csv.Rows[i], items[i], "", url);
                if (items[i].TryGetProperty("change", out var change)) AssertCells(csv.Rows[i], change, "change", url);
            }
            for (var i = 0; i < totals.Count; i++)
            {
                Assert.Equal("total", csv.Rows[items.Count + i]["kind"]);
                AssertCells(csv.Rows[items.Count + i], totals[i], "", url);
            }
        }

        // The other account sees its own store only.
        var theirView = await GetAsync<OverviewBody>(other, "/api/v1/metrics/overview?from=2026-05-01&to=2026-06-14");
        Assert.Equal([theirStore.Id], theirView.Items.Select(i => i.StoreId));
        Assert.Equal(["USD"], theirView.Totals.Select(t => t.Currency));
        // Without compare, no change at all (API.md: the bodies are as without it).
        Assert.DoesNotContain("\"change\"", (await GetJsonAsync(other, "/api/v1/metrics/overview?from=2026-05-01&to=2026-06-14")).GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task overview_needs_a_token_and_an_account_without_stores_gets_empty_lists()
    {
        await Host.Scenario(s => { s.Get.Url("/api/v1/metrics/overview"); s.StatusCodeShouldBe(401); });
        var (_, token) = await fixture.RegisterAsync();
        var body = await GetAsync<OverviewBody>(token, "/api/v1/metrics/overview");
        Assert.Empty(body.Items);
        Assert.Empty(body.Totals);
    }

    // ---- Bad input ----

    public static TheoryData<string> BadInsightQueries => new()
    {
        "summary?from=2026-03-01&to=2026-03-10&compare=last-year",
        "summary?from=2026-03-01&to=2026-03-10&compare=PREVIOUS",
        "daily?from=2026-03-01&to=2026-03-10&compare=1",
        "top-customers?from=2026-03-01&to=2026-03-10&compare=month",
        "products?from=2026-03-01&to=2026-03-10&compare=previous&limit=0",
        "checkouts?from=2026-03-01&to=2026-03-10&compare=yesterday",
        "summary?from=2026-03-01&to=2026-03-10&format=xml",
        "segments?asOf=2026-03-10&format=xlsx",
        "cohorts?months=0",
        "cohorts?months=37",
        "cohorts?months=twelve",
        "cohorts?months=-1",
        "cohorts?asOf=2026-02-30",
        "cohorts?asOf=1999-12-31",
        "cohorts?format=pdf",
    };

    [Theory]
    [MemberData(nameof(BadInsightQueries))]
    public async Task a_bad_compare_format_or_cohort_parameter_answers_400_problem_json(string pathAndQuery)
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

    public static TheoryData<string> BadOverviewQueries => new()
    {
        "compare=week",
        "from=2026-03-02&to=2026-03-01",
        "from=2026-02-30",
        $"from={Day(LastDay.AddDays(-731))}&to={Day(LastDay)}",
        "format=xlsx",
    };

    [Theory]
    [MemberData(nameof(BadOverviewQueries))]
    public async Task a_bad_overview_query_answers_400_problem_json_with_or_without_stores(string query)
    {
        var (_, token) = await fixture.RegisterAsync();
        await Host.Scenario(s =>
        {
            s.Get.Url($"/api/v1/metrics/overview?{query}");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(400);
            s.ContentTypeShouldBe("application/problem+json");
        });
        var (domain, shopToken) = fixture.NewShop();
        await fixture.ConnectStoreAsync(token, domain, shopToken);
        await Host.Scenario(s =>
        {
            s.Get.Url($"/api/v1/metrics/overview?{query}");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(400);
            s.ContentTypeShouldBe("application/problem+json");
        });
    }

    [Fact]
    public async Task cohorts_of_another_users_store_answer_404()
    {
        var (_, alice) = await fixture.RegisterAsync();
        var (_, bob) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(alice, domain, shopToken);
        await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}/metrics/cohorts"); s.WithBearerToken(bob); s.StatusCodeShouldBe(404); });
        await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}/metrics/summary?compare=year&format=csv"); s.WithBearerToken(bob); s.StatusCodeShouldBe(404); });
        var empty = await GetAsync<CohortsBody>(alice, $"/api/v1/stores/{store.Id}/metrics/cohorts?months=3");
        Assert.Equal(3, empty.Cohorts.Count);
        Assert.All(empty.Cohorts, c => Assert.Equal(0, c.Customers));
    }

    // ---- OpenAPI ----

    [Fact]
    public async Task the_openapi_document_declares_the_new_endpoints_and_parameters()
    {
        var result = await Host.Scenario(s => { s.Get.Url("/openapi/v1.json"); s.StatusCodeShouldBeOk(); });
        using var doc = JsonDocument.Parse(await result.ReadAsTextAsync());
        var paths = doc.RootElement.GetProperty("paths");
        IEnumerable<string> Parameters(string path) => paths.GetProperty(path).GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Select(p => p.GetProperty("name").GetString()!);
        foreach (var endpoint in new[] { "summary", "daily", "top-customers", "products", "checkouts" })
            Assert.Superset(new HashSet<string> { "from", "to", "compare", "format" }, Parameters($"/api/v1/stores/{{storeId}}/metrics/{endpoint}").ToHashSet());
        Assert.Superset(new HashSet<string> { "asOf", "months", "format" }, Parameters("/api/v1/stores/{storeId}/metrics/cohorts").ToHashSet());
        Assert.Superset(new HashSet<string> { "from", "to", "compare", "format" }, Parameters("/api/v1/metrics/overview").ToHashSet());
        var cohorts = paths.GetProperty("/api/v1/stores/{storeId}/metrics/cohorts").GetProperty("get");
        Assert.Equal("GetCohorts", cohorts.GetProperty("operationId").GetString());
        Assert.True(cohorts.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/csv", out _));
        Assert.True(cohorts.GetProperty("responses").TryGetProperty("400", out _));
        Assert.Contains("29 February", paths.GetProperty("/api/v1/stores/{storeId}/metrics/summary").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Single(p => p.GetProperty("name").GetString() == "compare").GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}
