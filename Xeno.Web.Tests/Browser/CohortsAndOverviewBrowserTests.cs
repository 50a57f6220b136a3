using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xeno.ShopifyServer;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Browser;

/// <summary>
/// The overview and cohorts pages in a real headless Chromium, as a merchant with two stores in two currencies sees them:
/// the login lands on the overview, both pages pass axe, download their CSV and never scroll sideways on a phone.
/// The stores are synced by the in-memory host; the browser talks to a web process of its own on the same database
/// (never a second in-process host), as production's web and worker processes share one.
/// </summary>
[Collection(XenoCollection.Name)]
public sealed class CohortsAndOverviewBrowserTests(XenoFixture fixture)
{
    private const string Password = "correct horse battery";

    [Fact]
    public async Task a_merchant_with_two_stores_reads_the_overview_and_the_cohorts_downloads_their_csv_and_nothing_scrolls_sideways()
    {
        var (email, token) = await fixture.RegisterAsync(Password);
        // The euro store is big enough for cohorts of ten customers and more, which the reading aid compares.
        var euro = await ConnectAsync(token, 81, "Berlin Bikes", "EUR", "Europe/Berlin", orders: 900);
        await ConnectAsync(token, 82, "Brooklyn Bags", "USD", "America/New_York", orders: 240);

        await using var web = await XenoProcess.ServeAsync($"--role web --contentRoot \"{ContentRoot()}\"",
        [
            ("ASPNETCORE_ENVIRONMENT", "Testing"),
            ("ConnectionStrings__XenoApp", fixture.AppConnectionString),
            ("ConnectionStrings__XenoSecrets", fixture.SecretsConnectionString),
            ("Jwt__SigningKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
            ("DataProtection__KeyEncryptionKey", XenoFixture.KeyEncryptionKey),
            ("Shopify__ApiBaseUrl", fixture.Shopify.ApiBaseUrl),
        ]);
        var url = web.BaseAddress.ToString().TrimEnd('/');

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new() { Width = 1280, Height = 900 }, ColorScheme = ColorScheme.Light, AcceptDownloads = true,
        });
        var page = await context.NewPageAsync();

        // Two stores: the login lands on the overview.
        await page.GotoAsync(url + "/login");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", Password);
        await page.ClickAsync("main button[type=submit]");
        await page.WaitForURLAsync("**/overview", Loaded);
        var main = await page.InnerTextAsync("main");
        Assert.Contains("Berlin Bikes", main);
        Assert.Contains("Brooklyn Bags", main);

        await page.ClickAsync("nav.range a:text-is('90 days')");
        await page.WaitForURLAsync("**range=90", Loaded);
        await page.ClickAsync("nav.range a:text-is('Previous period')");
        await page.WaitForURLAsync("**range=90&compare=previous", Loaded);
        var totals = await page.InnerTextAsync("table.totals");
        Assert.Contains("EUR", totals);
        Assert.Contains("USD", totals);
        Assert.True(await page.Locator("table.overview .change").CountAsync() > 0, "no change shown with a comparison");
        await CheckAsync(page, "overview");
        await DownloadAsync(page, "kind,storeId,shopDomain,name,currency");

        // The cohorts of the euro store, from its row of the overview.
        await page.ClickAsync($"a[href='/stores/{euro}/cohorts']");
        await page.WaitForURLAsync("**/cohorts", Loaded);
        Assert.True(await page.Locator("table.cohorts tbody tr").CountAsync() == 12);
        Assert.Contains("retains best", await page.InnerTextAsync("#reading-aid"));
        await CheckAsync(page, "cohorts");
        await DownloadAsync(page, "asOf,month,customers,offset,activeCustomers,retention");
        await page.ClickAsync("nav.range a:text-is('Net sales per customer')");
        await page.WaitForURLAsync(new Regex("view=sales"), Loaded);
        Assert.Contains("€", await page.InnerTextAsync("table.cohorts tbody"));
        await Screenshot(page, "cohorts-sales-light.png");
    }

    /// <summary>axe (no serious or critical finding) in light and dark, screenshots of both, and no sideways scroll at 360 px.</summary>
    private static async Task CheckAsync(IPage page, string name)
    {
        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            await page.EmulateMediaAsync(new() { ColorScheme = scheme });
            var axe = await page.RunAxe();
            var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical")
                .Select(v => $"{name} {scheme}: {v.Id}: {v.Help} at {string.Join(", ", v.Nodes.Take(3).Select(n => n.Html))}").ToList();
            Assert.True(serious.Count == 0, string.Join("\n", serious));
            await Screenshot(page, $"{name}-{(scheme == ColorScheme.Dark ? "dark" : "light")}.png");
        }
        await page.SetViewportSizeAsync(360, 780);
        await page.ReloadAsync();
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1"), $"{name} scrolls sideways at 360 px");
        await Screenshot(page, $"{name}-phone-dark.png");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await page.SetViewportSizeAsync(1280, 900);
    }

    private static async Task DownloadAsync(IPage page, string header)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("a.download"));
        Assert.EndsWith(".csv", download.SuggestedFilename);
        var path = await download.PathAsync();
        var first = (await File.ReadAllLinesAsync(path!)).First();
        Assert.StartsWith(header, first);
    }

    private async Task<Guid> ConnectAsync(string token, int seed, string name, string currency, string zone, int orders)
    {
        var shop = ShopGenerator.Generate(seed, orders, new ShopGeneratorOptions
        {
            Domain = $"brw-{Guid.NewGuid():N}"[..16] + ".myshopify.com", Name = name, CurrencyCode = currency, IanaTimezone = zone, Days = 400,
        });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, shopToken);
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id);
        return store.Id;
    }

    private static readonly PageWaitForURLOptions Loaded = new() { WaitUntil = WaitUntilState.Load, Timeout = 60_000 };

    /// <summary>Xeno.Web's own folder, so that the process serves its wwwroot (the stylesheet axe judges contrast by).</summary>
    private static string ContentRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Xeno.Web", "appsettings.json"))) return Path.Combine(dir.FullName, "Xeno.Web");
        throw new DirectoryNotFoundException("Xeno.Web was not found above the test folder.");
    }

    /// <summary>Screenshots go where XENO_SCREENSHOTS says (docs/screenshots when refreshed by hand), else to a temp folder.</summary>
    private static Task Screenshot(IPage page, string name)
    {
        var dir = Environment.GetEnvironmentVariable("XENO_SCREENSHOTS") ?? Path.Combine(Path.GetTempPath(), "xeno-screenshots");
        Directory.CreateDirectory(dir);
        return page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, name), FullPage = true });
    }
}
