using System.Globalization;
using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Xeno.Web.Tests.Browser;

/// <summary>
/// What a merchant checks by eye on the dashboard, in the browser: a chart with axes and a readout, tables that fit their
/// tiles, tiles as tall as their content, an hourly view of today, days below zero, the sync time in the shop's zone, a
/// wrong custom range explained, and pages that fit a 360 px phone.
/// </summary>
public sealed partial class DemoBrowserTests
{
    [Fact]
    public async Task a_merchant_reads_the_dashboard_at_a_glance_at_every_width()
    {
        Assert.True(fixture.Postgres is not null, "The browser test needs the private cluster (unset XENO_TEST_DB).");
        var connection = await fixture.Postgres!.CreateDatabaseAsync("xeno_glance_" + Guid.NewGuid().ToString("N")[..8]);
        await using var xeno = await XenoProcess.StartAsync(connection);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new() { Width = 1280, Height = 900 }, ColorScheme = ColorScheme.Light, AcceptDownloads = true });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error" && !AxeRunning) errors.Add($"{page.Url} ({m.Location}): {m.Text}"); };

        await page.GotoAsync(xeno.Url + "/login");
        await page.FillAsync("#email", "demo@xeno.test");
        await page.FillAsync("#password", xeno.DemoPassword);
        await page.ClickAsync("main button[type=submit]");
        await page.WaitForURLAsync("**/stores", Committed);
        await page.ClickAsync("text=Xeno Demo Outfitters");
        await page.WaitForURLAsync(new Regex("/stores/[0-9a-f-]+$"), Committed);
        var dashboard = page.Url;
        var storeId = Guid.Parse(dashboard[(dashboard.LastIndexOf('/') + 1)..]);
        await Expect(async () => Assert.Contains("Last successful sync", await page.InnerTextAsync("#sync-tile")), TimeSpan.FromSeconds(180));

        // Two days of last month made to order in the aggregates the chart reads: one with a single order, one where
        // returns outweigh sales.
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, newYork).DateTime);
        var (single, negative) = (today.AddDays(-20), today.AddDays(-19));
        await SqlAsync(connection, storeId, $"""
            INSERT INTO daily_metrics (tenant_id, day, orders, gross, discounts, returns) VALUES
              ('{storeId}', '{single:yyyy-MM-dd}', 1, 40, 0, 0), ('{storeId}', '{negative:yyyy-MM-dd}', 2, 10, 0, 2010)
            ON CONFLICT (tenant_id, day) DO UPDATE SET orders = excluded.orders, gross = excluded.gross,
              discounts = excluded.discounts, returns = excluded.returns
            """);
        await page.GotoAsync($"{dashboard}?range=30");
        await Screenshot(page, "dashboard-desktop-light.png");

        // The chart: a y axis of round amounts in dollars, an x axis of dates.
        var yTicks = await page.Locator("#tile-daily .y-axis text").AllTextContentsAsync();
        Assert.True(yTicks.Count >= 3, "fewer than three y ticks");
        var amounts = yTicks.Select(t => decimal.Parse(t.Replace("−", "-").Replace("$", "").Replace(",", ""), CultureInfo.InvariantCulture)).ToList();
        var step = amounts[1] - amounts[0];
        Assert.True(step > 0 && amounts.Zip(amounts.Skip(1)).All(p => p.Second - p.First == step), "uneven ticks: " + string.Join(" ", yTicks));
        Assert.Matches("^[125]0*$", step.ToString(CultureInfo.InvariantCulture)); // 1, 2 or 5 times a power of ten
        Assert.True(amounts.Min() <= -2000m && amounts.Contains(0m), "the axis does not reach the −$2,000 day: " + string.Join(" ", yTicks));
        var xTicks = await page.Locator("#tile-daily .plot text.tick").AllTextContentsAsync();
        Assert.True(xTicks.Count >= 4, "fewer than four x ticks");
        Assert.All(xTicks, t => Assert.Matches("^\\d{1,2} [A-Z][a-z]{2}$", t));

        // The day below zero: a bar from the zero line down.
        var zero = (await page.Locator("#tile-daily line.zero").BoundingBoxAsync())!;
        var below = (await page.Locator("#tile-daily rect.bar.negative").First.BoundingBoxAsync())!;
        Assert.True(Math.Abs(below.Y - (zero.Y + zero.Height / 2)) < 2 && below.Height > 5, $"negative bar at {below.Y}+{below.Height}, zero at {zero.Y}");

        // Pointing at the single order's day shows its figures, in the singular; the keys move to the next day.
        var bars = page.Locator("#tile-daily rect.bar");
        var index = 29 - (today.DayNumber - single.DayNumber);
        var box = (await bars.Nth(index).BoundingBoxAsync())!;
        var plot = (await page.Locator("#tile-daily .plot").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width / 2, plot.Y + plot.Height / 2);
        var readout = page.Locator("#tile-daily .readout");
        Assert.Equal($"{single.ToString("d MMM yyyy", CultureInfo.InvariantCulture)}: $40.00 net sales, 1 order", await readout.InnerTextAsync());
        await page.Locator("#tile-daily .plot").FocusAsync();
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.Equal($"{negative.ToString("d MMM yyyy", CultureInfo.InvariantCulture)}: −$2,000.00 net sales, 2 orders", await readout.InnerTextAsync());
        Assert.Equal("polite", await readout.GetAttributeAsync("aria-live"));

        // The sync time, in New York's time.
        var synced = (DateTime)(await SqlAsync(connection, storeId, $"SELECT last_synced_at FROM stores WHERE id = '{storeId}'"))!;
        var local = TimeZoneInfo.ConvertTime(new DateTimeOffset(DateTime.SpecifyKind(synced, DateTimeKind.Utc)), newYork);
        Assert.Contains($"{local.ToString("d MMM yyyy, HH:mm", CultureInfo.InvariantCulture)} UTC−{-local.Offset.Hours}", await page.InnerTextAsync("#last-sync"));

        // Comparing with the previous period: each figure gets its change, the chart a faint second series, the URL the choice.
        Assert.Equal(0, await page.Locator("#tile-summary .change").CountAsync());
        await page.ClickAsync("nav.compare a:text-is('Previous period')");
        await page.WaitForURLAsync("**compare=previous");
        await Expect(async () => Assert.True(await page.Locator("#tile-summary .change").CountAsync() >= 9), TimeSpan.FromSeconds(10));
        Assert.Matches("^(▲|▼) \\d+\\.\\d%$|^= 0\\.0%$|^–$", (await page.Locator("#tile-summary dd .change [aria-hidden]").First.InnerTextAsync()).Trim());
        Assert.True(await page.Locator("#tile-daily polyline.earlier").IsVisibleAsync(), "the chart draws no comparison series");
        Assert.Contains("range=30", page.Url);
        await page.Locator("#tile-daily .plot").FocusAsync();
        await page.Keyboard.PressAsync("End");
        Assert.Contains("; ", await page.Locator("#tile-daily .readout").InnerTextAsync()); // the day's figures, then the earlier day's
        await Screenshot(page, "dashboard-compare-light.png");

        // The summary tile's CSV: the range's figures and the comparison's, as the API writes them.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#tile-summary a.download"));
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.StartsWith("currency,from,to,orders,grossSales", csv);
        Assert.Contains("comparisonFrom,comparisonTo", csv.Split('\n')[0]);

        // Every table fits its tile, and every tile is as tall as its content, at every width (with the changes shown).
        foreach (var width in new[] { 1280, 1024, 768, 360 })
        {
            await page.SetViewportSizeAsync(width, 900);
            var misfits = await page.EvaluateAsync<string[]>("""
                () => [...document.querySelectorAll("#tiles > .card")].flatMap(tile => {
                  const box = tile.getBoundingClientRect(), found = [];
                  tile.querySelectorAll("tr > :last-child").forEach(cell => {
                    if (cell.getBoundingClientRect().right > box.right - 1) found.push(tile.id + ": '" + cell.textContent + "' past the edge");
                  });
                  if (tile.scrollWidth > tile.clientWidth + 1) found.push(tile.id + " scrolls sideways");
                  const last = [...tile.children].at(-1).getBoundingClientRect();
                  if (box.bottom - last.bottom > 48) found.push(tile.id + ": " + Math.round(box.bottom - last.bottom) + " px empty at the bottom");
                  return found;
                })
                """);
            Assert.True(misfits.Length == 0, $"at {width} px: " + string.Join("; ", misfits));
        }
        await page.SetViewportSizeAsync(1280, 900);
        await AssertNoSeriousAxeFindingsAsync(page);

        // A wrong custom range is explained, and what was typed stays.
        var later = today.AddDays(-3).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var earlier = today.AddDays(-10).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await page.FillAsync("#from", later);
        await page.FillAsync("#to", earlier);
        await page.ClickAsync(".custom-range button[type=submit]");
        await Expect(async () => Assert.Contains("is after the end date", await page.InnerTextAsync("#range-error")), TimeSpan.FromSeconds(10));
        Assert.Equal(later, await page.InputValueAsync("#from"));
        Assert.Equal(earlier, await page.InputValueAsync("#to"));
        Assert.Equal(0, await page.Locator("#tile-summary").CountAsync());

        // Today goes by the hour, in the shop's zone.
        await page.ClickAsync("nav.range a:text-is('Today')");
        await page.WaitForURLAsync("**range=today*");
        await Expect(async () => Assert.Contains("Net sales by hour", await page.InnerTextAsync("#tile-daily h2")), TimeSpan.FromSeconds(10));
        Assert.Equal(24, await page.Locator("#tile-daily rect.bar").CountAsync());
        Assert.Equal(["00:00", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00"], await page.Locator("#tile-daily .plot text.tick").AllTextContentsAsync());

        // Dark mode, desktop and phone.
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await page.GotoAsync($"{dashboard}?range=30");
        await Screenshot(page, "dashboard-desktop-dark.png");
        await AssertNoSeriousAxeFindingsAsync(page);

        // A phone: no page scrolls sideways, and the menu takes one line until it is opened.
        await page.SetViewportSizeAsync(360, 780);
        foreach (var path in new[] { $"/stores/{storeId}?range=30", $"/stores/{storeId}/settings", "/api.html", "/stores" })
        {
            await page.GotoAsync(xeno.Url + path);
            if (path == "/api.html") await page.WaitForSelectorAsync("#operations section");
            Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), $"{path} scrolls sideways at 360 px");
            if (path != "/api.html") Assert.True((await page.Locator(".topbar").BoundingBoxAsync())!.Height < 72, $"the menu of {path} takes more than a line");
        }
        await AssertTheApiReferenceReadsAsync(page, xeno.Url);
        await page.GotoAsync($"{dashboard}?range=30");
        await Screenshot(page, "dashboard-phone-dark.png");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await Screenshot(page, "dashboard-phone-light.png");
        Assert.False(await page.Locator("#main-menu a:text-is('Settings')").IsVisibleAsync());
        await page.ClickAsync(".menu-toggle");
        await page.ClickAsync("#main-menu a:text-is('Settings')");
        await page.WaitForURLAsync("**/settings", Committed);
        await Screenshot(page, "settings-phone.png");

        // The favicon is there, and no script failed along the way (the CSP runs no inline script).
        Assert.Equal(200, (await page.APIRequest.GetAsync(xeno.Url + "/favicon.ico")).Status);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    /// <summary>The API reference, as its reader sees it (dark, on a phone): each call's parameters in a table, its answers
    /// with their statuses and what each means, whether it needs the token, and the fields of its bodies.</summary>
    private static async Task AssertTheApiReferenceReadsAsync(IPage page, string xenoUrl)
    {
        await page.GotoAsync(xenoUrl + "/api.html");
        await page.WaitForSelectorAsync("#op-GetSummary");
        var parameters = page.Locator("#op-GetSummary table.parameters");
        Assert.Equal(["Name", "In", "Required", "Type", "Description"], await parameters.Locator("thead th[scope=col]").AllTextContentsAsync());
        var compare = parameters.Locator("tbody tr", new() { Has = page.Locator("th[scope=row] code:text-is('compare')") });
        Assert.Contains("query, string, optional", await compare.Locator("th").InnerTextAsync()); // folded in at 360 px
        Assert.Contains("29 February", await compare.Locator("td").Last.InnerTextAsync());
        Assert.Equal(["204", "401", "403", "404"], await page.Locator("#op-DeleteStore table.responses th[scope=row]").AllTextContentsAsync());
        Assert.Contains("viewer", await page.Locator("#op-DeleteStore table.responses tr", new() { Has = page.Locator("th:text-is('403')") }).InnerTextAsync());
        Assert.Contains("No token", await page.InnerTextAsync("#op-Register .auth"));
        Assert.Contains("Bearer token", await page.InnerTextAsync("#op-GetSummary .auth"));
        Assert.True(await page.Locator("#op-Register .schema code.field:text-is('password')").IsVisibleAsync(), "the request body's fields are not listed");
        Assert.True(await page.Locator("#op-GetSyncStatus .fields .fields code.field:text-is('runId')").IsVisibleAsync(), "a nested $ref's fields are not listed");
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "/api.html scrolls sideways at 360 px");
        await Screenshot(page, "api-phone-dark.png");
        await AssertNoSeriousAxeFindingsAsync(page);
        await page.SetViewportSizeAsync(1280, 900);
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        Assert.Equal("query", await page.Locator("#op-GetSummary table.parameters tbody tr").Nth(1).Locator("td").First.InnerTextAsync());
        await Screenshot(page, "api-desktop-light.png");
        await AssertNoSeriousAxeFindingsAsync(page);
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await page.SetViewportSizeAsync(360, 780);
    }

    /// <summary>axe-core sets inline styles while it measures, which the CSP refuses: those errors are the tool's.</summary>
    private static bool AxeRunning;

    private static async Task AssertNoSeriousAxeFindingsAsync(IPage page)
    {
        AxeRunning = true;
        var axe = await page.RunAxe();
        await Task.Delay(500);
        AxeRunning = false;
        var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id}: {v.Help} at {string.Join(", ", v.Nodes.Take(3).Select(n => n.Html))}").ToList();
        Assert.True(serious.Count == 0, string.Join("\n", serious));
    }

    /// <summary>SQL on the Xeno process's database, with the store's tenant set (row-level security).</summary>
    private static async Task<object?> SqlAsync(string connection, Guid storeId, string sql)
    {
        await using var conn = new Npgsql.NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"SELECT set_config('app.tenant_id', '{storeId}', false); {sql}", conn);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.NextResultAsync();
        return await reader.ReadAsync() ? reader.GetValue(0) : null;
    }
}
