using System.Net;
using System.Text.RegularExpressions;
using Alba;
using Xeno.ShopifyServer;
using Xeno.Web.Features.Metrics;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Dashboard;

[Collection(XenoCollection.Name)]
public sealed class DashboardTests(XenoFixture fixture)
{
    private async Task<(BrowserSession Browser, Guid StoreId, string Token)> SyncedStoreAsync()
    {
        var domain = $"dash-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(51, 150, new ShopGeneratorOptions { Domain = domain, Name = "Dash Shop" });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        fixture.Shopify.State.AddShop(shop, "shpat_dash");
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, domain, "shpat_dash", apiSecret: XenoFixture.WebhookSecret);
        var synced = await fixture.WaitForSyncAsync(token, store.Id);
        Assert.True(synced.LastRun!.Status == "succeeded", $"the first sync {synced.LastRun.Status}: {synced.LastRun.Error}");
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(token);
        return (browser, store.Id, token);
    }

    [Fact]
    public async Task the_dashboard_shows_every_tile_with_the_figures_of_the_api_for_the_range_in_the_url()
    {
        var (browser, storeId, token) = await SyncedStoreAsync();
        var (page, html) = await browser.GetAsync($"/stores/{storeId}?range=custom&from=2025-06-01&to=2026-05-31");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<html", html);
        foreach (var tile in new[] { "summary", "daily", "top-customers", "products", "checkouts", "segments" })
            Assert.Contains($"id=\"tile-{tile}\"", html);
        Assert.Contains("id=\"sync-tile\"", html);
        Assert.Contains("<figure class=\"chart\"", html);

        // The tiles show what the API answers for the same range, in the shop's currency.
        var api = await fixture.Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{storeId}/metrics/summary?from=2025-06-01&to=2026-05-31"); s.WithBearerToken(token); });
        var summary = (await api.ReadAsJsonAsync<GetSummary.Response>())!;
        Assert.True(summary.Orders > 0);
        Assert.Contains(Xeno.Web.Features.Dashboard.Formats.Money(summary.NetSales, summary.Currency), html);
        Assert.Contains($"<dd>{summary.Orders}</dd>", html);
    }

    [Fact]
    public async Task the_range_picker_swaps_only_the_tiles_and_keeps_the_range_in_the_url()
    {
        var (browser, storeId, _) = await SyncedStoreAsync();
        var (page, html) = await browser.GetAsync($"/stores/{storeId}?range=7");
        Assert.Contains("hx-push-url=\"true\"", html);
        Assert.Contains($"href=\"/stores/{storeId}?range=90\"", html);

        var (fragment, tiles) = await browser.GetAsync($"/stores/{storeId}?range=90", htmx: true);
        Assert.Equal(HttpStatusCode.OK, fragment.StatusCode);
        Assert.DoesNotContain("<html", tiles);
        Assert.StartsWith("<div id=\"tiles\"", tiles.TrimStart());
        Assert.Contains("range=90", tiles); // every tile polls for the same range
        Assert.Contains("HX-Request", fragment.Headers.Vary);
    }

    [Fact]
    public async Task a_tile_poll_runs_no_query_while_the_data_has_not_changed_and_redraws_once_it_has()
    {
        var (browser, storeId, _) = await SyncedStoreAsync();
        var (_, html) = await browser.GetAsync($"/stores/{storeId}?range=30");
        var pollUrl = WebUtility.HtmlDecode(Regex.Match(html, "id=\"tile-summary\" hx-get=\"([^\"]+)\"").Groups[1].Value);
        Assert.Contains("&v=", pollUrl);

        var (unchanged, _) = await browser.GetAsync(pollUrl, htmx: true);
        Assert.Equal(HttpStatusCode.NoContent, unchanged.StatusCode);

        // New data (a webhook, here a customer update) moves the version: the next poll redraws the tile.
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "shopify", "webhook-customers-create.json"));
        await PostWebhookAsync(storeId, body);
        HttpResponseMessage? redrawn = null;
        string fragment = "";
        for (var i = 0; i < 100; i++)
        {
            (redrawn, fragment) = await browser.GetAsync(pollUrl, htmx: true);
            if (redrawn.StatusCode == HttpStatusCode.OK) break;
            await Task.Delay(50);
        }
        Assert.Equal(HttpStatusCode.OK, redrawn!.StatusCode);
        Assert.StartsWith("<section class=\"card tile tile-summary\"", fragment.TrimStart());
    }

    private async Task PostWebhookAsync(Guid storeId, byte[] body)
    {
        var domain = (string)(await fixture.ScalarAsync(storeId, $"SELECT shop_domain FROM stores WHERE id = '{storeId}'"))!;
        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Shopify-Topic", "customers/update");
        request.Headers.Add("X-Shopify-Shop-Domain", domain);
        request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Hmac-Sha256", Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(XenoFixture.WebhookSecret), body)));
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task the_stores_list_shows_each_stores_headline_figures()
    {
        var (browser, storeId, token) = await SyncedStoreAsync();
        var api = await fixture.Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{storeId}/metrics/summary"); s.WithBearerToken(token); });
        var summary = (await api.ReadAsJsonAsync<GetSummary.Response>())!;
        var (_, html) = await browser.GetAsync("/stores");
        Assert.Contains($"<strong>{summary.Orders}</strong> {(summary.Orders == 1 ? "order" : "orders")}", html);
        Assert.Contains(Xeno.Web.Features.Dashboard.Formats.Money(summary.NetSales, summary.Currency), html);
    }

    [Fact]
    public async Task the_api_is_described_by_openapi()
    {
        var result = await fixture.Host.Scenario(s => { s.Get.Url("/openapi/v1.json"); s.StatusCodeShouldBeOk(); });
        var document = await result.ReadAsTextAsync();
        Assert.Contains("/api/v1/stores/{storeId}/metrics/summary", document);
        Assert.Contains("/api/v1/auth/login", document);
        Assert.DoesNotContain("/webhooks/shopify", document);

        // And a page people can read, which draws itself from that document.
        var page = await fixture.Host.Scenario(s => { s.Get.Url("/api.html"); s.StatusCodeShouldBeOk(); });
        Assert.Contains("/openapi/v1.json", await page.ReadAsTextAsync());
    }

    [Fact]
    public async Task every_tile_is_served_as_an_htmx_fragment()
    {
        var (browser, storeId, _) = await SyncedStoreAsync();
        foreach (var tile in Xeno.Web.Features.Dashboard.ShowDashboard.Tiles)
        {
            var (response, html) = await browser.GetAsync($"/stores/{storeId}/tiles/{tile}?range=90", htmx: true);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith($"<section class=\"card tile tile-{tile}\"", html.TrimStart());
            Assert.DoesNotContain("<html", html);
        }
        var (unknown, _) = await browser.GetAsync($"/stores/{storeId}/tiles/nonsense", htmx: true);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task an_empty_store_says_what_to_do()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop("Empty Shop");
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(token);
        var (page, html) = await browser.GetAsync($"/stores/{store.Id}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("No orders in this range", html);
    }

    [Theory]
    [InlineData("custom&from=2025-07-10&to=2025-07-01", "The start date (10 Jul 2025) is after the end date (1 Jul 2025).", "2025-07-10", "2025-07-01")]
    [InlineData("custom&from=2023-01-01&to=2025-01-01", "A range may span at most 731 days; 1 Jan 2023 to 1 Jan 2025 spans 732.", "2023-01-01", "2025-01-01")]
    [InlineData("custom&from=2025-07-10&to=", "Pick both a start and an end date.", "2025-07-10", "")]
    public async Task an_invalid_custom_range_says_what_is_wrong_and_keeps_the_dates_as_typed(string query, string message, string from, string to)
    {
        var (browser, storeId, _) = await SyncedStoreAsync();
        foreach (var htmx in new[] { false, true })
        {
            var (page, html) = await browser.GetAsync($"/stores/{storeId}?range={query}", htmx);
            // 200, so that htmx swaps it in (it swaps no 4xx).
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var text = WebUtility.HtmlDecode(html);
            Assert.Matches($"<p class=\"error range-error\" id=\"range-error\" role=\"alert\">{Regex.Escape(message)}", text);
            Assert.Contains($"id=\"from\" name=\"from\" type=\"date\" value=\"{from}\"", text);
            Assert.Contains($"id=\"to\" name=\"to\" type=\"date\" value=\"{to}\"", text);
            // Not the last 30 days in its place: no figures at all until the dates are fixed.
            Assert.DoesNotContain("id=\"tile-summary\"", text);
        }
    }

    [Fact]
    public async Task a_single_day_is_charted_by_the_hour_and_its_hours_add_up_to_the_day()
    {
        var (browser, storeId, token) = await SyncedStoreAsync();
        var api = await fixture.Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{storeId}/metrics/daily?from=2025-06-01&to=2026-05-31"); s.WithBearerToken(token); });
        var busiest = (await api.ReadAsJsonAsync<GetDaily.Response>())!.Days.OrderByDescending(d => d.Orders).First();
        Assert.True(busiest.Orders > 1);

        var day = busiest.Date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var (_, html) = await browser.GetAsync($"/stores/{storeId}/tiles/daily?range=custom&from={day}&to={day}", htmx: true);
        html = WebUtility.HtmlDecode(html);
        Assert.Contains("Net sales by hour", html);
        var rows = Regex.Matches(html, "<tr><td>[^<]+, (\\d\\d):00–\\d\\d:00</td><td class=\"num\">(\\d+)</td><td class=\"num\">([^<]+)</td></tr>");
        Assert.Equal(Enumerable.Range(0, 24).Select(h => h.ToString("00")), rows.Select(r => r.Groups[1].Value));
        Assert.Equal(24, Regex.Matches(html, "<rect class=\"bar[ \"]").Count);
        Assert.Equal(busiest.Orders, rows.Sum(r => int.Parse(r.Groups[2].Value)));
        Assert.Equal(busiest.NetSales, rows.Sum(r => ParseMoney(r.Groups[3].Value)));
    }

    [Fact]
    public async Task a_day_of_net_returns_is_drawn_below_the_axis_and_one_order_is_singular()
    {
        var (browser, storeId, _) = await SyncedStoreAsync();
        // Two days made to order in the aggregates the chart reads: one order; and returns outweighing sales.
        await fixture.ScalarAsync(storeId, $"""
            INSERT INTO daily_metrics (tenant_id, day, orders, gross, discounts, returns) VALUES
              ('{storeId}', '2025-07-01', 1, 40, 0, 0), ('{storeId}', '2025-07-02', 2, 10, 0, 60)
            ON CONFLICT (tenant_id, day) DO UPDATE SET orders = excluded.orders, gross = excluded.gross,
              discounts = excluded.discounts, returns = excluded.returns
            """);
        var (_, html) = await browser.GetAsync($"/stores/{storeId}/tiles/daily?range=custom&from=2025-07-01&to=2025-07-07", htmx: true);
        html = WebUtility.HtmlDecode(html);

        Assert.Contains("data-readout=\"1 Jul 2025: $40.00 net sales, 1 order\"", html);
        Assert.Contains("<td>1 Jul 2025</td><td class=\"num\">1</td><td class=\"num\">$40.00</td>", html);

        // The negative day's bar starts at the zero line (drawn at y = 10 + its y in the bars' frame) and goes down.
        var zero = double.Parse(Regex.Match(html, "<line class=\"zero\" x1=\"0\" x2=\"100%\" y1=\"([0-9.]+)\"").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var bar = Regex.Match(html, "<rect class=\"bar negative\" data-readout=\"2 Jul 2025: −\\$50.00 net sales, 2 orders\" x=\"[0-9.]+\" y=\"([0-9.]+)\" width=\"[0-9.]+\" height=\"([0-9.]+)\"");
        Assert.True(bar.Success, "no negative bar for 2 Jul");
        Assert.Equal(zero, 10 + double.Parse(bar.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 3);
        Assert.True(double.Parse(bar.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) > 10);
        Assert.Contains("below zero: returns outweighed sales", html);
    }

    [Fact]
    public async Task the_sync_tile_gives_the_last_sync_in_the_shops_zone_and_refreshes_with_the_others()
    {
        var (browser, storeId, _) = await SyncedStoreAsync();
        var last = (DateTime)(await fixture.ScalarAsync(storeId, $"SELECT last_synced_at FROM stores WHERE id = '{storeId}'"))!;
        var newYork = TimeZoneInfo.ConvertTime(new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc)), TimeZoneInfo.FindSystemTimeZoneById("America/New_York"));
        var (_, html) = await browser.GetAsync($"/stores/{storeId}");
        html = WebUtility.HtmlDecode(html);
        var expected = newYork.ToString("d MMM yyyy, HH:mm", System.Globalization.CultureInfo.InvariantCulture) + (newYork.Offset.Hours == -4 ? " UTC−4" : " UTC−5");
        Assert.Contains(expected, html);
        Assert.DoesNotContain("UTC</", html);

        // The tile polls even when no sync runs, and answers 204 while nothing it shows has moved.
        var poll = Regex.Match(html, "id=\"sync-tile\" aria-live=\"polite\" hx-get=\"([^\"]+)\" hx-trigger=\"every 20s\"");
        Assert.True(poll.Success);
        var (unchanged, _) = await browser.GetAsync(poll.Groups[1].Value, htmx: true);
        Assert.Equal(HttpStatusCode.NoContent, unchanged.StatusCode);
        await fixture.ScalarAsync(storeId, $"UPDATE stores SET data_version = data_version + 1 WHERE id = '{storeId}'");
        var (moved, tile) = await browser.GetAsync(poll.Groups[1].Value, htmx: true);
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.StartsWith("<section class=\"card sync-tile\"", tile.TrimStart());
    }

    [Fact]
    public async Task the_comparison_picker_shows_each_figures_change_coloured_by_good_news_and_the_chart_draws_the_earlier_range()
    {
        var (browser, storeId, token) = await SyncedStoreAsync();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var (from, to) = ($"{today.AddDays(-100):yyyy-MM-dd}", $"{today.AddDays(-11):yyyy-MM-dd}");
        var range = $"range=custom&from={from}&to={to}";

        var (_, plain) = await browser.GetAsync($"/stores/{storeId}?{range}");
        plain = WebUtility.HtmlDecode(plain);
        Assert.DoesNotContain("class=\"change", plain);
        Assert.DoesNotContain("class=\"earlier\"", plain);
        // The picker keeps the range, custom dates included.
        Assert.Contains($"href=\"/stores/{storeId}?{range}&compare=previous\"", plain);

        var (page, html) = await browser.GetAsync($"/stores/{storeId}?{range}&compare=previous");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        html = WebUtility.HtmlDecode(html);
        Assert.Matches("<a href=\"[^\"]*compare=previous\"[^>]*aria-current=page>Previous period</a>", html);
        // Every range preset keeps the comparison.
        Assert.Contains($"href=\"/stores/{storeId}?range=7&compare=previous\"", html);

        var api = await fixture.Host.Scenario(s =>
        {
            s.Get.Url($"/api/v1/stores/{storeId}/metrics/summary?from={from}&to={to}&compare=previous");
            s.WithBearerToken(token);
        });
        var summary = (await api.ReadAsJsonAsync<GetSummary.Response>())!;
        Assert.NotNull(summary.Change?.NetSales);
        Assert.NotNull(summary.Change?.Returns);
        // Net sales up is good news, returns up is bad: the arrow, the percentage and the colour say which.
        AssertChange(html, "Net sales", summary.Change!.NetSales!.Value, upIsGood: true);
        AssertChange(html, "Orders", summary.Change.Orders!.Value, upIsGood: true);
        AssertChange(html, "Returns", summary.Change.Returns!.Value, upIsGood: false);
        Assert.Contains($"Changes against the previous period, {Xeno.Web.Features.Dashboard.Formats.Date(summary.Comparison!.From)}", html);

        // The chart draws the previous period as a second, faint series; the table under it gives its figures.
        Assert.Contains("<polyline class=\"earlier\"", html);
        Assert.Contains("net sales, the previous period", html);
        // Ranked tables show each row's change in net sales.
        var customers = Regex.Match(html, "id=\"tile-top-customers\".*?</section>", RegexOptions.Singleline).Value;
        Assert.Matches("class=\"change (good|bad|flat|none)\"", customers);
    }

    private static void AssertChange(string html, string figure, decimal change, bool upIsGood)
    {
        var match = Regex.Match(html, $"<dt>{figure}</dt><dd>[^<]*</dd><dd><span class=\"change (\\w+)\"><span aria-hidden=\"true\">([^<]*)</span>");
        Assert.True(match.Success, $"{figure} shows no change");
        var percent = Math.Abs(change * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "%";
        var (css, shown) = change == 0 ? ("flat", "= 0.0%") : (change > 0 == upIsGood ? "good" : "bad", (change > 0 ? "▲ " : "▼ ") + percent);
        Assert.Equal((css, shown), (match.Groups[1].Value, match.Groups[2].Value));
    }

    [Fact]
    public async Task each_tile_downloads_the_csv_of_its_metrics_endpoint_for_the_range_and_comparison_shown()
    {
        var (browser, storeId, token) = await SyncedStoreAsync();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var (from, to) = ($"{today.AddDays(-60):yyyy-MM-dd}", $"{today.AddDays(-1):yyyy-MM-dd}");
        var (_, html) = await browser.GetAsync($"/stores/{storeId}?range=custom&from={from}&to={to}&compare=year");
        html = WebUtility.HtmlDecode(html);
        var api = new Dictionary<string, string>
        {
            ["summary"] = $"summary?from={from}&to={to}&compare=year",
            ["daily"] = $"daily?from={from}&to={to}&compare=year",
            ["top-customers"] = $"top-customers?from={from}&to={to}&compare=year&limit=5",
            ["products"] = $"products?from={from}&to={to}&compare=year&limit=10",
            ["checkouts"] = $"checkouts?from={from}&to={to}&compare=year",
            ["segments"] = $"segments?asOf={to}",
        };
        foreach (var (tile, endpoint) in api)
        {
            var link = Regex.Match(html, $"<a class=\"download\" href=\"(/stores/{storeId}/tiles/{tile}\\?[^\"]+)\" download>");
            Assert.True(link.Success, $"The {tile} tile has no Download CSV link");
            var (response, csv) = await browser.GetAsync(link.Groups[1].Value);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
            var expected = await fixture.Host.Scenario(s =>
            {
                s.Get.Url($"/api/v1/stores/{storeId}/metrics/{endpoint}&format=csv");
                s.WithBearerToken(token);
            });
            Assert.Equal(await expected.ReadAsTextAsync(), csv);
            Assert.True(csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 2, $"The {tile} CSV has no rows");
        }
    }

    [Fact]
    public async Task the_favicon_is_served()
    {
        var result = await fixture.Host.Scenario(s => { s.Get.Url("/favicon.ico"); s.StatusCodeShouldBeOk(); });
        Assert.Equal("image/x-icon", result.Context.Response.ContentType);
    }

    private static decimal ParseMoney(string text) =>
        (text.StartsWith('−') ? -1 : 1) * decimal.Parse(text.TrimStart('−', '$').Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
}
