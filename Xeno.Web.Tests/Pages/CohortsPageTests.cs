using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Alba;
using Xeno.ShopifyServer;
using Xeno.Web.Features.Dashboard;
using Xeno.Web.Features.Metrics;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Pages;

/// <summary>The cohorts page: the retention triangle of the cohorts API, drawn as a table, for the store's members only.</summary>
[Collection(XenoCollection.Name)]
public sealed partial class CohortsPageTests(XenoFixture fixture)
{
    [Fact]
    public async Task the_cohorts_page_shows_the_numbers_of_the_cohorts_api_in_both_views_and_offers_its_csv()
    {
        var domain = $"coh-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(61, 900, new ShopGeneratorOptions
        {
            Domain = domain, Name = "Cohort Shop", Now = new DateTimeOffset(2026, 6, 15, 0, 0, 0, TimeSpan.Zero), Days = 400,
        });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, shopToken);
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id);
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(token);

        var api = await fixture.Host.Scenario(s =>
        {
            s.Get.Url($"/api/v1/stores/{store.Id}/metrics/cohorts?asOf=2026-06-14&months=12");
            s.WithBearerToken(token);
        });
        var cohorts = (await api.ReadAsJsonAsync<GetCohorts.Response>())!;
        Assert.Contains(cohorts.Cohorts, c => c.Customers > 0 && c.Periods.Count > 3);

        foreach (var view in new[] { "retention", "sales" })
        {
            var (response, html) = await browser.GetAsync($"/stores/{store.Id}/cohorts?view={view}&months=12&asOf=2026-06-14");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("<caption", html);
            Assert.Contains("<th scope=\"colgroup\" colspan=\"12\" class=\"months-since\">Months since the first order</th>", html);
            Assert.Contains("<th scope=\"col\" class=\"num\"><span class=\"visually-hidden\">Month </span>11</th>", html);
            var rows = Rows(html);
            Assert.Equal(cohorts.Cohorts.Count, rows.Count);
            foreach (var (cohort, row) in cohorts.Cohorts.Zip(rows))
            {
                Assert.Equal(DateOnly.ParseExact(cohort.Month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture).ToString("MMM yyyy", CultureInfo.InvariantCulture), row.Header);
                Assert.Equal(cohort.Customers.ToString(CultureInfo.InvariantCulture), row.Cells[0]);
                for (var k = 0; k < cohort.Periods.Count; k++)
                {
                    var p = cohort.Periods[k];
                    var shown = view == "sales" ? Formats.Money(p.CumulativeNetSalesPerCustomer, store.Currency) : Formats.Percent(p.Retention);
                    var expected = cohort.Customers == 0 ? "–no customers" : shown + (p.Partial ? "* (month still running)" : "");
                    Assert.Equal(expected, row.Cells[1 + k]);
                }
                // The triangle: no cell beyond the months that have passed.
                Assert.All(row.Cells.Skip(1 + cohort.Periods.Count), c => Assert.Equal("", c));
            }
            // The reading aid names the recent cohort (of 10 customers or more) that retains best at month 3.
            var best = cohorts.Cohorts.Where(c => c.Customers >= 10 && c.Periods.Count > 3 && !c.Periods[3].Partial).TakeLast(6)
                .OrderByDescending(c => c.Periods[3].Retention).ThenByDescending(c => c.Customers).First();
            var aid = Text(ReadingAid().Match(html).Groups[1].Value);
            Assert.Contains($"retains best: {Formats.Percent(best.Periods[3].Retention)} of its {best.Customers} customers", aid);
            Assert.Contains($"href=\"/stores/{store.Id}/cohorts?months=12&amp;asOf=2026-06-14&amp;format=csv\"", html);
        }

        // The page's CSV is the API's CSV for the same cohorts.
        var (csvResponse, csv) = await browser.GetAsync($"/stores/{store.Id}/cohorts?months=12&asOf=2026-06-14&format=csv");
        Assert.Equal(HttpStatusCode.OK, csvResponse.StatusCode);
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType!.MediaType);
        var apiCsv = await fixture.Host.Scenario(s =>
        {
            s.Get.Url($"/api/v1/stores/{store.Id}/metrics/cohorts?asOf=2026-06-14&months=12&format=csv");
            s.WithBearerToken(token);
        });
        Assert.Equal(await apiCsv.ReadAsTextAsync(), csv);
        Assert.StartsWith("asOf,month,customers,offset", csv);
    }

    [Fact]
    public async Task the_cohorts_page_of_a_store_is_not_found_for_anyone_but_its_members()
    {
        var (domain, shopToken) = fixture.NewShop();
        var (_, owner) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(owner, domain, shopToken);

        var (_, stranger) = await fixture.RegisterAsync();
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(stranger);
        var (page, html) = await browser.GetAsync($"/stores/{store.Id}/cohorts");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.DoesNotContain(domain, html);
        var (csv, _) = await browser.GetAsync($"/stores/{store.Id}/cohorts?format=csv");
        Assert.Equal(HttpStatusCode.NotFound, csv.StatusCode);

        // Without a session: the login page, coming back here afterwards.
        var (anonymous, _) = await new BrowserSession(fixture.CreateClient()).GetAsync($"/stores/{store.Id}/cohorts");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login?returnUrl=", anonymous.Headers.Location!.OriginalString);

        // The owner sees it, empty cohorts and all, with the reading aid saying no cohort has reached month 3.
        var mine = new BrowserSession(fixture.CreateClient());
        mine.UseToken(owner);
        var (ok, own) = await mine.GetAsync($"/stores/{store.Id}/cohorts");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("No cohort here of at least 10 customers has reached month 3 yet", own);
    }

    private sealed record Row(string Header, List<string> Cells);

    private static List<Row> Rows(string html)
    {
        var body = html[html.IndexOf("<tbody>", StringComparison.Ordinal)..html.IndexOf("</tbody>", StringComparison.Ordinal)];
        return TableRow().Matches(body).Select(m => new Row(Text(m.Groups[1].Value),
            TableCell().Matches(m.Groups[2].Value).Select(c => Text(c.Groups[1].Value)).ToList())).ToList();
    }

    private static string Text(string html) => WebUtility.HtmlDecode(Regex.Replace(Tag().Replace(html, ""), "\\s+", " ")).Trim();

    [GeneratedRegex("<tr>\\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex TableRow();

    [GeneratedRegex("<td[^>]*>(.*?)</td>", RegexOptions.Singleline)]
    private static partial Regex TableCell();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();

    [GeneratedRegex("<p class=\"reading-aid\" id=\"reading-aid\">(.*?)</p>", RegexOptions.Singleline)]
    private static partial Regex ReadingAid();
}
