using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Browser;

/// <summary>
/// A newcomer's first minutes, in a real headless Chromium against a real Xeno process in demo mode:
/// log in with the printed demo account, see the tiles, change the range, switch to dark mode, and
/// watch a new demo order arrive without reloading. Xeno runs as its own process on a loopback port,
/// with a database of its own (its job queue must not mix with the in-memory host's).
/// </summary>
[Collection(XenoCollection.Name)]
public sealed partial class DemoBrowserTests(XenoFixture fixture)
{
    [Fact]
    public async Task a_newcomer_logs_in_to_the_demo_and_watches_the_dashboard_move()
    {
        Assert.True(fixture.Postgres is not null, "The browser test needs the private cluster (unset XENO_TEST_DB).");
        var connection = await fixture.Postgres!.CreateDatabaseAsync("xeno_browser_" + Guid.NewGuid().ToString("N")[..8]);
        await using var xeno = await XenoProcess.StartAsync(connection);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new() { Width = 1280, Height = 900 }, ColorScheme = ColorScheme.Light });
        var page = await context.NewPageAsync();

        // The login page shows the demo account; logging in with it lands on the stores list.
        await page.GotoAsync(xeno.Url + "/login");
        Assert.Contains(xeno.DemoPassword, await page.InnerTextAsync("main"));
        await page.FillAsync("#email", "demo@xeno.test");
        await page.FillAsync("#password", xeno.DemoPassword);
        await page.ClickAsync("main button[type=submit]");
        await page.WaitForURLAsync("**/stores", Committed);
        await page.ClickAsync("text=Xeno Demo Outfitters");
        await page.WaitForURLAsync(new Regex("/stores/[0-9a-f-]+$"), Committed);

        // Tiles fill once the first sync is in (the summary tile polls itself).
        var orders = page.Locator("#tile-summary dt:text-is('Orders') + dd");
        await Expect(async () => Assert.True(int.Parse(await orders.InnerTextAsync()) > 0), TimeSpan.FromSeconds(90));
        // The sync tile follows the first sync by itself, to its end.
        await Expect(async () => Assert.Contains("Last successful sync", await page.InnerTextAsync("#sync-tile")), TimeSpan.FromSeconds(300));
        await page.ReloadAsync();
        foreach (var tile in new[] { "daily", "top-customers", "products", "checkouts", "segments" })
            Assert.True(await page.Locator($"#tile-{tile}").IsVisibleAsync(), tile);
        await Screenshot(page, "dashboard-light.png");

        // No serious or critical accessibility problem on the dashboard.
        var axe = await page.RunAxe();
        var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id}: {v.Help} at {string.Join(", ", v.Nodes.Take(3).Select(n => n.Html))}").ToList();
        Assert.True(serious.Count == 0, string.Join("\n", serious));

        // Changing the range swaps the tiles and keeps the range in the URL.
        await page.ClickAsync("nav.range a:text-is('90 days')");
        await page.WaitForURLAsync("**range=90");
        await Expect(async () => Assert.Contains("range=90", await page.Locator("#tile-summary").GetAttributeAsync("hx-get") ?? ""), TimeSpan.FromSeconds(10));

        // Dark mode: the toggle switches, and the choice survives a reload.
        await page.ClickAsync("#theme-toggle");
        Assert.Equal("dark", await page.EvaluateAsync<string>("document.documentElement.dataset.theme"));
        await page.ReloadAsync();
        Assert.Equal("dark", await page.EvaluateAsync<string>("document.documentElement.dataset.theme"));
        await Screenshot(page, "dashboard-dark.png");

        // Today's orders grow while the page stays open: the demo shop's webhooks reach the tiles.
        await page.ClickAsync("nav.range a:text-is('Today')");
        await page.WaitForURLAsync("**range=today");
        var before = int.Parse(await orders.InnerTextAsync());
        await Expect(async () => Assert.True(int.Parse(await orders.InnerTextAsync()) > before), TimeSpan.FromSeconds(60));

        // A phone: nothing wider than the screen.
        await page.SetViewportSizeAsync(360, 780);
        await page.ReloadAsync();
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways at 360 px");
        await Screenshot(page, "dashboard-phone.png");
    }

    [Fact]
    public async Task a_newcomer_registers_and_installs_their_own_demo_shop_through_shopifys_consent_page()
    {
        Assert.True(fixture.Postgres is not null, "The browser test needs the private cluster (unset XENO_TEST_DB).");
        var connection = await fixture.Postgres!.CreateDatabaseAsync("xeno_install_" + Guid.NewGuid().ToString("N")[..8]);
        await using var xeno = await XenoProcess.StartAsync(connection);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new() { Width = 1280, Height = 900 } })).NewPageAsync();

        await page.GotoAsync(xeno.Url + "/register");
        await page.FillAsync("#email", $"newcomer-{Guid.NewGuid():N}@example.com");
        await page.FillAsync("#password", "a newcomer's password");
        await page.ClickAsync("main button[type=submit]");
        await page.WaitForURLAsync("**/stores", Committed);

        // The main action: install Xeno, with this account's own demo shop already filled in.
        var shop = await page.InputValueAsync("#install-shop");
        Assert.Matches("^try-xeno-[0-9a-f]{8}\\.myshopify\\.com$", shop);
        var axe = await page.RunAxe();
        Assert.True(axe.Violations.All(v => v.Impact is not ("serious" or "critical")),
            string.Join("\n", axe.Violations.Select(v => $"{v.Id}: {v.Help}")));
        await Screenshot(page, "stores-install.png");
        await page.ClickAsync("#install button[type=submit]");

        // Shopify's consent page (the demo server's), then back to the new store's dashboard.
        await page.WaitForURLAsync(new Regex("/admin/oauth/authorize"), Committed);
        Assert.Contains("Install", await page.InnerTextAsync("body"));
        await page.ClickAsync("#install");
        await page.WaitForURLAsync(new Regex("/stores/[0-9a-f-]{36}$"), Committed);
        Assert.Contains(shop, await page.InnerTextAsync("main"));

        var orders = page.Locator("#tile-summary dt:text-is('Orders') + dd");
        await Expect(async () => Assert.True(int.Parse(await orders.InnerTextAsync()) > 0), TimeSpan.FromSeconds(90));
        await Expect(async () => Assert.Contains("Last successful sync", await page.InnerTextAsync("#sync-tile")), TimeSpan.FromSeconds(300));
        await Screenshot(page, "dashboard-installed.png");
    }

    private static readonly PageWaitForURLOptions Committed = new() { WaitUntil = WaitUntilState.Commit, Timeout = 60_000 };

    private static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });

    private static async Task Expect(Func<Task> assertion, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try { await assertion(); return; }
            catch (Exception) when (DateTime.UtcNow < deadline) { await Task.Delay(500); }
        }
    }

    /// <summary>Screenshots go where XENO_SCREENSHOTS says (docs/ when they are refreshed by hand), else to a temp folder.</summary>
    private static Task Screenshot(IPage page, string name)
    {
        var dir = Environment.GetEnvironmentVariable("XENO_SCREENSHOTS") ?? Path.Combine(Path.GetTempPath(), "xeno-screenshots");
        Directory.CreateDirectory(dir);
        // Caret Initial: hiding the caret injects a style element, which the CSP refuses (a console error).
        return page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, name), FullPage = true, Caret = ScreenshotCaret.Initial });
    }

    private sealed partial class XenoProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private XenoProcess(Process process, string url, string password) { _process = process; Url = url; DemoPassword = password; }

        public string Url { get; }
        public string DemoPassword { get; }

        public static async Task<XenoProcess> StartAsync(string connection)
        {
            var port = FreePort();
            var url = $"http://127.0.0.1:{port}";
            var contentRoot = FindContentRoot();
            var info = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "Xeno.Web.dll")}\" --urls {url} --contentRoot \"{contentRoot}\"")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            info.Environment["ConnectionStrings__Xeno"] = connection;
            info.Environment["Demo__Enabled"] = "true";
            info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            var process = Process.Start(info)!;
            var password = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) => { if (e.Data is { } line && DemoLine().Match(line) is { Success: true } m) password.TrySetResult(m.Groups[1].Value); };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var demoPassword = await password.Task.WaitAsync(TimeSpan.FromSeconds(90));
            using var http = new HttpClient();
            for (var i = 0; i < 120; i++)
            {
                try { if ((await http.GetAsync(url + "/readyz")).IsSuccessStatusCode) break; } catch (HttpRequestException) { }
                await Task.Delay(500);
            }
            return new XenoProcess(process, url, demoPassword);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }

        private static string FindContentRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Xeno.Web", "appsettings.json"))) return Path.Combine(dir.FullName, "Xeno.Web");
            throw new DirectoryNotFoundException("Xeno.Web was not found above the test folder.");
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        [GeneratedRegex("log in as demo@xeno.test with password (\\S+)")]
        private static partial Regex DemoLine();
    }
}
