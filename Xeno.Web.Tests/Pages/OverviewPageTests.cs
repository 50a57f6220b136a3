using System.Net;
using Alba;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Features.Dashboard;
using Xeno.Web.Features.Metrics;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Pages;

/// <summary>The overview page: every store of the account from the overview API, totals per currency, and the landing
/// page after login for accounts with more than one store.</summary>
[Collection(XenoCollection.Name)]
public sealed class OverviewPageTests(XenoFixture fixture)
{
    private const string Password = "correct horse battery";

    private Shop Generated(int seed, string currency, string zone)
    {
        var shop = ShopGenerator.Generate(seed, 40, new ShopGeneratorOptions
        {
            Domain = $"ovp-{Guid.NewGuid():N}"[..16] + ".myshopify.com", Name = $"Overview page {currency} {seed}", CurrencyCode = currency,
            IanaTimezone = zone, Now = new DateTimeOffset(2026, 6, 15, 0, 0, 0, TimeSpan.Zero), Days = 90,
        });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        return shop;
    }

    private async Task<Guid> ConnectSyncedAsync(string token, Shop shop)
    {
        var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, shopToken);
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id);
        return store.Id;
    }

    [Fact]
    public async Task the_overview_lists_every_store_of_the_account_with_its_change_and_totals_per_currency_and_never_another_accounts_store()
    {
        var euro = Generated(71, "EUR", "Europe/Berlin");
        var dollars = Generated(72, "USD", "America/New_York");
        var theirs = Generated(73, "USD", "America/New_York");
        var (_, token) = await fixture.RegisterAsync();
        var (_, other) = await fixture.RegisterAsync();
        var euroId = await ConnectSyncedAsync(token, euro);
        var dollarsId = await ConnectSyncedAsync(token, dollars);
        var theirId = await ConnectSyncedAsync(other, theirs);
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(token);

        const string dates = "from=2026-05-01&to=2026-06-14";
        var (response, encoded) = await browser.GetAsync($"/overview?range=custom&{dates}&compare=previous");
        // Razor writes € and other non-ASCII characters as character references.
        var html = WebUtility.HtmlDecode(encoded);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var api = await fixture.Host.Scenario(s => { s.Get.Url($"/api/v1/metrics/overview?{dates}&compare=previous"); s.WithBearerToken(token); });
        var body = (await api.ReadAsJsonAsync<GetOverview.Response>())!;
        Assert.Equal(2, body.Items.Count);
        foreach (var item in body.Items)
        {
            // Each row links to the store's dashboard for the same range, and shows the API's figures and changes.
            Assert.Contains($"<a href=\"/stores/{item.StoreId}?range=custom&from=2026-05-01&to=2026-06-14\">{item.Name}</a>", html);
            var row = html[html.IndexOf($"/stores/{item.StoreId}?", StringComparison.Ordinal)..];
            row = row[..row.IndexOf("</tr>", StringComparison.Ordinal)];
            Assert.Contains($"<td class=\"num\">{item.Orders}<br>", row);
            Assert.Contains(Formats.Money(item.NetSales, item.Currency), row);
            Assert.Contains(Formats.Money(item.TotalSales, item.Currency), row);
            Assert.Contains(Formats.Money(item.AverageOrderValue, item.Currency), row);
            Assert.Contains(WebUtility.HtmlDecode(Xeno.Web.Features.Shared.ChangeText.Render(item.Change!.NetSales, true, "the previous period").ToString()!), row);
        }
        Assert.Equal(["EUR", "USD"], body.Totals.Select(t => t.Currency));
        var totals = html[html.IndexOf("Totals per currency", StringComparison.Ordinal)..];
        foreach (var total in body.Totals)
        {
            Assert.Contains($"<th scope=\"row\">{total.Currency}</th>", totals);
            Assert.Contains(Formats.Money(total.NetSales, total.Currency), totals);
            Assert.Contains(Formats.Money(total.TotalSales, total.Currency), totals);
        }
        Assert.DoesNotContain(theirs.MyshopifyDomain, html);
        Assert.DoesNotContain(theirId.ToString(), html);
        Assert.DoesNotContain(theirs.Name, html);
        Assert.Contains(euroId.ToString(), html);
        Assert.Contains(dollarsId.ToString(), html);

        // Without a comparison there is no change; the range and the comparison live in the links.
        var (_, plain) = await browser.GetAsync("/overview?range=90");
        Assert.DoesNotContain("class=\"change", plain);
        Assert.Contains("href=\"/overview?range=90&amp;compare=year\"", plain);
        Assert.Contains("href=\"/overview?range=7\"", plain);

        // The CSV is the overview API's for the same dates.
        var (csvResponse, csv) = await browser.GetAsync($"/overview?range=custom&{dates}&compare=previous&format=csv");
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType!.MediaType);
        var apiCsv = await fixture.Host.Scenario(s => { s.Get.Url($"/api/v1/metrics/overview?{dates}&compare=previous&format=csv"); s.WithBearerToken(token); });
        Assert.Equal(await apiCsv.ReadAsTextAsync(), csv);
        Assert.StartsWith("kind,storeId,shopDomain", csv);

        // The stores list links to the overview.
        var (_, stores) = await browser.GetAsync("/stores");
        Assert.Contains("href=\"/overview\"", stores);
    }

    [Fact]
    public async Task login_lands_on_the_overview_with_two_stores_on_the_stores_list_with_one_and_where_it_was_asked_to_return()
    {
        var (email, token) = await fixture.RegisterAsync(Password);
        var (firstDomain, firstToken) = fixture.NewShop("First", "EUR");
        await fixture.ConnectStoreAsync(token, firstDomain, firstToken);

        Assert.Equal("/stores", await LoginAsync(email, returnUrl: null));

        var (secondDomain, secondToken) = fixture.NewShop("Second", "USD", "America/New_York");
        var second = await fixture.ConnectStoreAsync(token, secondDomain, secondToken);
        Assert.Equal("/overview", await LoginAsync(email, returnUrl: null));
        Assert.Equal($"/stores/{second.Id}", await LoginAsync(email, returnUrl: $"/stores/{second.Id}"));
        // A return path that is not local is dropped, and the default landing applies.
        Assert.Equal("/overview", await LoginAsync(email, returnUrl: "//evil.example"));

        // An account without stores sees an empty overview that leads to installing one.
        var (_, empty) = await fixture.RegisterAsync();
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(empty);
        var (page, html) = await browser.GetAsync("/overview");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("No store connected yet", html);
    }

    private async Task<string> LoginAsync(string email, string? returnUrl)
    {
        var browser = new BrowserSession(fixture.CreateClient());
        var fields = new Dictionary<string, string> { ["email"] = email, ["password"] = Password };
        if (returnUrl is not null) fields["returnUrl"] = returnUrl;
        var (response, _) = await browser.PostFormAsync("/login", "/login", fields);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.OriginalString;
    }
}
