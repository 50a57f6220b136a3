using System.Net;
using Xeno.ShopifyServer;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Sync;

[Collection(XenoCollection.Name)]
public sealed class SyncTileTests(XenoFixture fixture)
{
    [Fact]
    public async Task the_store_page_shows_the_sync_and_sync_now_queues_one_through_htmx()
    {
        var domain = $"tile-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(21, 40, new ShopGeneratorOptions { Domain = domain, Name = "Tile Shop" });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        fixture.Shopify.State.AddShop(shop, "shpat_tile");

        var browser = new BrowserSession(fixture.CreateClient());
        await browser.PostFormAsync("/register", "/register", new Dictionary<string, string> { ["email"] = XenoFixture.UniqueEmail(), ["password"] = "tile password" });
        var (connected, _) = await browser.PostFormAsync("/stores", "/stores", new Dictionary<string, string> { ["shopDomain"] = domain, ["accessToken"] = "shpat_tile" });
        var storePath = connected.Headers.Location!.OriginalString;

        // Wait until the first sync has stored the shop, as a merchant watching the tile would.
        string tile = "";
        for (var i = 0; i < 240 && !tile.Contains("Last successful sync"); i++)
        {
            await Task.Delay(250);
            (_, tile) = await browser.GetAsync(storePath + "/sync", htmx: true);
        }
        Assert.Contains("40 orders", tile);
        Assert.Contains("Sync now", tile);
        Assert.DoesNotContain("<html", tile); // a fragment, not a page

        var (page, html) = await browser.GetAsync(storePath);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("id=\"sync-tile\"", html);
        Assert.Contains("<html", html);

        // "Sync now" is an htmx POST carrying the antiforgery header from the page.
        var token = System.Text.RegularExpressions.Regex.Match(html, "RequestVerificationToken&quot;:&quot;([^&]+)&quot;").Groups[1].Value;
        Assert.NotEmpty(token);
        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, storePath + "/sync");
        request.Headers.Add("HX-Request", "true");
        request.Headers.Add("RequestVerificationToken", token);
        request.Headers.Add("Cookie", string.Join("; ", browser.Cookies.Select(c => $"{c.Key}={c.Value}")));
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("sync-tile", body);

        // Without the token the same POST is refused.
        using var forged = new HttpRequestMessage(HttpMethod.Post, storePath + "/sync");
        forged.Headers.Add("HX-Request", "true");
        forged.Headers.Add("Cookie", string.Join("; ", browser.Cookies.Select(c => $"{c.Key}={c.Value}")));
        Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(forged)).StatusCode);
    }
}
