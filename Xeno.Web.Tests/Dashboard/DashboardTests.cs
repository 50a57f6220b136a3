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
        await fixture.WaitForSyncAsync(token, store.Id);
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
        Assert.Contains("<svg class=\"chart\"", html);

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
        Assert.Contains($"<strong>{summary.Orders}</strong> orders", html);
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
}
