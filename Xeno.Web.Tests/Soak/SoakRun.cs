using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using Xeno.ShopifyServer;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Tests.Infrastructure;
using Xeno.Web.Tests.Webhooks;

namespace Xeno.Web.Tests.Soak;

public sealed record SoakOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>Orders of the big shop whose full sync runs (again and again) during the soak.</summary>
    public int Orders { get; init; } = 20_000;
    public double WebhooksPerSecond { get; init; } = 10;
    public int DashboardPollers { get; init; } = 2;
    public int ApiReaders { get; init; } = 2;
    /// <summary>The database owner's connection; null: a private PostgreSQL in a temp folder, removed afterwards.</summary>
    public string? OwnerConnectionString { get; init; }
    public Action<string> Log { get; init; } = Console.WriteLine;
}

public sealed record SoakResult(bool Passed, long Requests, long Errors, int WebhooksSent, long WebhooksApplied, int SyncsCompleted,
    IReadOnlyList<string> ErrorSamples, string Report);

/// <summary>
/// The soak: Xeno as a process of its own on 127.0.0.1 (the Xeno.Web.dll built beside this), the Shopify-compatible server
/// on loopback, and a private PostgreSQL. Two stores are connected; the big one's full sync runs throughout (queued again
/// whenever it ends), while dashboards poll their pages and htmx tiles with a logged-in cookie, API clients read every
/// metric, and signed orders/create deliveries arrive at a steady rate for the small one. Every request's latency is kept
/// per kind. Passes when no request failed (no 5xx, no error, no unexpected status), every sync succeeded and every
/// delivery sent was applied. Bounded: every loop stops at the deadline, and everything it started stops with it.
/// </summary>
public static class SoakRun
{
    private const string Secret = "soak-app-secret";
    private static readonly string[] Tiles = ["summary", "daily", "top-customers", "products", "checkouts", "segments"];
    private static readonly string[] Metrics = ["summary", "daily", "top-customers", "products", "checkouts", "segments", "summary?from={0}&to={1}", "daily?from={0}&to={1}"];

    public static async Task<SoakResult> RunAsync(SoakOptions options, CancellationToken ct = default)
    {
        var log = options.Log;
        PrivatePostgres? postgres = null;
        var owner = options.OwnerConnectionString;
        if (owner is null)
        {
            postgres = await PrivatePostgres.StartAsync(Path.Combine(Path.GetTempPath(), "xeno-soak-" + Guid.NewGuid().ToString("N")[..10]), deleteOnDispose: true);
            owner = postgres.ConnectionString;
        }
        try
        {
            await using var shopify = await ShopifyTestServer.StartAsync(new ShopifyServerState { AppSecret = Secret });
            var bigDomain = "soak-big.myshopify.com";
            var smallDomain = "soak-webhooks.myshopify.com";
            log($"soak: generating a shop of {options.Orders} orders");
            shopify.State.AddShop(ShopGenerator.Generate(seed: 2026, options.Orders, new ShopGeneratorOptions { Domain = bigDomain, Name = "Soak Big" }), "shpat_soak_big");
            shopify.State.AddShop(ShopGenerator.Generate(seed: 7, 50, new ShopGeneratorOptions { Domain = smallDomain, Name = "Soak Webhooks" }), "shpat_soak_small");

            log("soak: starting Xeno on 127.0.0.1");
            await using var xeno = await XenoProcess.ServeAsync("",
            [
                ("ASPNETCORE_ENVIRONMENT", "Testing"),
                ("ConnectionStrings__Xeno", owner),
                ("Shopify__ApiBaseUrl", shopify.ApiBaseUrl),
                ("Shopify__ApiKey", shopify.State.DefaultApp.ClientId),
                ("Shopify__ApiSecret", Secret),
                ("DataProtection__KeyEncryptionKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
                ("Logging__LogLevel__Default", "Warning"),
                ("Logging__Console__FormatterName", "simple"),
            ]);
            using var http = xeno.CreateClient();
            http.Timeout = TimeSpan.FromSeconds(30);

            var email = $"soak-{Guid.NewGuid():N}@example.com";
            var register = await http.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "soak password 1" }, ct);
            register.EnsureSuccessStatusCode();
            var token = (await register.Content.ReadFromJsonAsync<JsonObject>(ct))!["token"]!.GetValue<string>();
            async Task<Guid> ConnectAsync(string domain, string shopToken)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/stores") { Content = JsonContent.Create(new { shopDomain = domain, accessToken = shopToken }) };
                request.Headers.Authorization = new("Bearer", token);
                var response = await http.SendAsync(request, ct);
                if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"Connecting {domain}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                return Guid.Parse((await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!.GetValue<string>());
            }
            var small = await ConnectAsync(smallDomain, "shpat_soak_small");
            var big = await ConnectAsync(bigDomain, "shpat_soak_big"); // connecting queues its full sync
            log($"soak: stores connected (big {big}, webhooks {small}); running for {options.Duration}");

            var stats = new ConcurrentDictionary<string, ConcurrentBag<double>>();
            var errors = new ConcurrentQueue<string>();
            long errorCount = 0;
            var clock = Stopwatch.StartNew();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            stop.CancelAfter(options.Duration);

            async Task<HttpResponseMessage?> TimedAsync(string kind, HttpRequestMessage request, params HttpStatusCode[] expected)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, CancellationToken.None);
                    stats.GetOrAdd(kind, _ => []).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (!expected.Contains(response.StatusCode))
                    {
                        Interlocked.Increment(ref errorCount);
                        if (errors.Count < 20) errors.Enqueue($"{kind} {request.Method} {request.RequestUri}: {(int)response.StatusCode} {Cut(await response.Content.ReadAsStringAsync())}");
                    }
                    return response;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    stats.GetOrAdd(kind, _ => []).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Increment(ref errorCount);
                    if (errors.Count < 20) errors.Enqueue($"{kind} {request.Method} {request.RequestUri}: {e.GetType().Name} {e.Message}");
                    return null;
                }
            }

            HttpRequestMessage Page(string url, bool htmx)
            {
                var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Add("Cookie", "xeno_auth=" + token);
                if (htmx) request.Headers.Add("HX-Request", "true");
                return request;
            }
            HttpRequestMessage Api(HttpMethod method, string url, HttpContent? content = null)
            {
                var request = new HttpRequestMessage(method, url) { Content = content };
                request.Headers.Authorization = new("Bearer", token);
                return request;
            }

            var stores = new[] { big, small };
            var dashboards = Enumerable.Range(0, options.DashboardPollers).Select(i => Task.Run(async () =>
            {
                for (var n = i; !stop.IsCancellationRequested; n++)
                {
                    var store = stores[n % 2];
                    var range = new[] { "30", "90", "7", "month" }[n % 4];
                    await TimedAsync("dashboard page", Page($"/stores/{store}?range={range}", htmx: false), HttpStatusCode.OK);
                    // What the open page's tiles do while it stays open: poll with the version they were drawn at (v=0 forces a draw).
                    foreach (var tile in Tiles)
                        await TimedAsync("htmx tile", Page($"/stores/{store}/tiles/{tile}?range={range}&v={(n % 3 == 0 ? 0 : -1)}", htmx: true), HttpStatusCode.OK, HttpStatusCode.NoContent);
                    await Delay(TimeSpan.FromMilliseconds(500), stop.Token);
                }
            })).ToList();

            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            var readers = Enumerable.Range(0, options.ApiReaders).Select(i => Task.Run(async () =>
            {
                for (var n = i; !stop.IsCancellationRequested; n++)
                {
                    var store = stores[n % 2];
                    var metric = string.Format(CultureInfo.InvariantCulture, Metrics[n % Metrics.Length],
                        today.AddDays(-400).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    await TimedAsync("api metrics", Api(HttpMethod.Get, $"/api/v1/stores/{store}/metrics/{metric}"), HttpStatusCode.OK);
                    if (n % 5 == 0) await TimedAsync("api stores", Api(HttpMethod.Get, "/api/v1/stores"), HttpStatusCode.OK);
                    await Delay(TimeSpan.FromMilliseconds(100), stop.Token);
                }
            })).ToList();

            var sent = new ConcurrentBag<long>();
            var webhooks = Task.Run(async () =>
            {
                var interval = TimeSpan.FromSeconds(1 / options.WebhooksPerSecond);
                var due = clock.Elapsed;
                for (long id = 8_200_000_000_001; !stop.IsCancellationRequested; id++)
                {
                    due += interval;
                    var body = WebhookSender.Order(id, 10 + id % 90);
                    var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new("application/json");
                    request.Headers.Add("X-Shopify-Topic", "orders/create");
                    request.Headers.Add("X-Shopify-Shop-Domain", smallDomain);
                    request.Headers.Add("X-Shopify-API-Version", "2026-10");
                    request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
                    request.Headers.Add("X-Shopify-Event-Id", Guid.NewGuid().ToString());
                    request.Headers.Add("X-Shopify-Triggered-At", DateTimeOffset.UtcNow.ToString("O"));
                    request.Headers.Add("X-Shopify-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body)));
                    var response = await TimedAsync("webhook", request, HttpStatusCode.OK);
                    if (response?.StatusCode == HttpStatusCode.OK) sent.Add(id);
                    if (due > clock.Elapsed) await Delay(due - clock.Elapsed, stop.Token);
                }
            });

            var syncsCompleted = 0;
            var syncs = Task.Run(async () =>
            {
                while (true)
                {
                    var status = await TimedAsync("api sync status", Api(HttpMethod.Get, $"/api/v1/stores/{big}/sync"), HttpStatusCode.OK);
                    var body = status is null ? null : await status.Content.ReadFromJsonAsync<JsonObject>();
                    var state = body?["state"]?.GetValue<string>();
                    if (state == "failed")
                    {
                        Interlocked.Increment(ref errorCount);
                        errors.Enqueue($"sync failed after {clock.Elapsed:mm\\:ss}: {body!["lastRun"]?["error"]}");
                    }
                    if (state is "idle" or "failed" && body?["lastRun"] is JsonObject)
                    {
                        syncsCompleted++;
                        if (stop.IsCancellationRequested) return;
                        log($"soak: sync {syncsCompleted} of the big shop ended ({state}) at {clock.Elapsed:mm\\:ss}; queuing another full sync");
                        await TimedAsync("api sync queue", Api(HttpMethod.Post, $"/api/v1/stores/{big}/sync", JsonContent.Create(new { mode = "full" })), HttpStatusCode.Accepted);
                    }
                    else if (stop.IsCancellationRequested && clock.Elapsed > options.Duration + TimeSpan.FromMinutes(5))
                    {
                        Interlocked.Increment(ref errorCount);
                        errors.Enqueue($"the sync running at the end did not finish within 5 minutes ({state})");
                        return;
                    }
                    await Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None);
                }
            });

            await Task.WhenAll([.. dashboards, .. readers, webhooks]);
            log($"soak: load stopped at {clock.Elapsed:mm\\:ss}; waiting for the running sync to end and every delivery to be applied");
            await syncs;

            // Every delivery answered 200 is an order in the store's data, once Xeno's workers have applied it.
            long applied = 0;
            var deadline = DateTime.UtcNow.AddMinutes(2);
            await using (var conn = new NpgsqlConnection(owner))
            {
                await conn.OpenAsync(CancellationToken.None);
                await using (var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", conn))
                {
                    set.Parameters.AddWithValue("t", small.ToString());
                    await set.ExecuteNonQueryAsync(CancellationToken.None);
                }
                var ids = sent.ToArray();
                while (true)
                {
                    await using var count = new NpgsqlCommand("SELECT count(*) FROM orders WHERE id = ANY(@ids)", conn);
                    count.Parameters.AddWithValue("ids", ids);
                    applied = (long)(await count.ExecuteScalarAsync(CancellationToken.None))!;
                    if (applied == ids.Length || DateTime.UtcNow > deadline) break;
                    await Task.Delay(500, CancellationToken.None);
                }
            }

            var report = new StringBuilder();
            report.AppendLine($"{"kind",-18} {"requests",9} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8}");
            foreach (var (kind, bag) in stats.OrderBy(s => s.Key))
            {
                var sorted = bag.Order().ToArray();
                double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
                report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{kind,-18} {sorted.Length,9} {P(0.5),8:0.0} {P(0.95),8:0.0} {P(0.99),8:0.0} {sorted[^1],8:0.0}"));
            }
            var requests = stats.Values.Sum(b => (long)b.Count);
            var passed = Interlocked.Read(ref errorCount) == 0 && applied == sent.Count && syncsCompleted > 0;
            report.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"soak {(passed ? "PASSED" : "FAILED")}: {options.Duration.TotalMinutes:0.##} min, {requests} requests, {Interlocked.Read(ref errorCount)} errors, " +
                $"webhooks applied {applied}/{sent.Count}, syncs of {options.Orders} orders completed {syncsCompleted}"));
            foreach (var error in errors) report.AppendLine("  error: " + error);
            if (!passed)
            {
                // What Xeno logged about it (warnings and errors only), for the cause behind a merchant-facing message.
                var lines = xeno.Output.Split('\n');
                var logged = lines.Select((line, i) => (line, i)).Where(l => l.line.StartsWith("warn:") || l.line.StartsWith("fail:")).Take(5)
                    .SelectMany(l => lines.Skip(l.i).Take(6));
                foreach (var line in logged) report.AppendLine("  xeno: " + Cut(line.TrimEnd()));
            }
            return new SoakResult(passed, requests, Interlocked.Read(ref errorCount), sent.Count, applied, syncsCompleted, errors.ToList(), report.ToString());
        }
        finally
        {
            if (postgres is not null) await postgres.DisposeAsync();
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken stop)
    {
        try { await Task.Delay(delay, stop); }
        catch (OperationCanceledException) { }
    }

    private static string Cut(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
