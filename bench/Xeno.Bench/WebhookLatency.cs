// Webhook latency: the time from Xeno's 200 to the order being visible in the store's data,
// which is what the dashboard reads. Target: p95 under 2 s. Usage:
//   dotnet run -c Release --project bench/Xeno.Bench -- [webhooks=400] [per second=25]
using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using Microsoft.AspNetCore.Hosting;
using Npgsql;
using Xeno.ShopifyServer;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Bench;

// Named so that Xeno.Web's Program (the app under test) keeps its name here.
internal static class WebhookLatency
{
    public static async Task Main(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0]) : 400;
        // Paced, as a busy store's webhooks arrive: latency under a steady rate, not a queue's drain time after a burst.
        var rate = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 25;
        const string secret = "bench-secret";

        await using var postgres = Environment.GetEnvironmentVariable("XENO_BENCH_DB") is null
            ? await PrivatePostgres.StartAsync(Path.Combine(Path.GetTempPath(), "xeno-bench-" + Guid.NewGuid().ToString("N")[..8]), deleteOnDispose: true)
            : null;
        var owner = Environment.GetEnvironmentVariable("XENO_BENCH_DB") ?? postgres!.ConnectionString;
        await using var shopify = await ShopifyTestServer.StartAsync();
        var domain = "bench-shop.myshopify.com";
        shopify.State.AddShop(domain, "Bench Shop", "USD", "America/New_York", "shpat_bench");

        await using var host = await AlbaHost.For<Program>(b =>
        {
            b.UseEnvironment("Production");
            b.UseSetting("ConnectionStrings:Xeno", owner);
            b.UseSetting("Shopify:ApiBaseUrl", shopify.ApiBaseUrl);
            b.UseSetting("Shopify:ApiSecret", secret);
            b.UseSetting("Demo:Enabled", "false");
            b.UseSetting("Logging:LogLevel:Default", "Warning");
        });
        var client = host.Server.CreateClient();
        var register = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = $"bench-{Guid.NewGuid():N}@example.com", password = "bench password" });
        var token = (await register.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var store = await (await client.PostAsJsonAsync("/api/v1/stores", new { shopDomain = domain, accessToken = "shpat_bench" })).Content.ReadFromJsonAsync<JsonObject>();
        var storeId = store!["id"]!.GetValue<string>();
        client.DefaultRequestHeaders.Authorization = null;

        var template = JsonNode.Parse(File.ReadAllText(FindFixture("webhook-orders-create.json")))!;
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<long, long>();
        var visible = new Dictionary<long, long>();
        var clock = Stopwatch.StartNew();

        // The watcher reads as the owner with the tenant set, as a dashboard query would see the data.
        using var done = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            await using var conn = new NpgsqlConnection(owner);
            await conn.OpenAsync();
            await using (var set = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{storeId}', false)", conn)) await set.ExecuteNonQueryAsync();
            while (visible.Count < count && !done.IsCancellationRequested)
            {
                var pending = acknowledged.Keys.Where(k => !visible.ContainsKey(k)).ToArray();
                if (pending.Length > 0)
                {
                    await using var cmd = new NpgsqlCommand("SELECT id FROM orders WHERE id = ANY(@ids)", conn);
                    cmd.Parameters.AddWithValue("ids", pending);
                    await using var reader = await cmd.ExecuteReaderAsync();
                    while (await reader.ReadAsync()) visible[reader.GetInt64(0)] = clock.ElapsedMilliseconds;
                }
                await Task.Delay(10);
            }
        });

        var ids = Enumerable.Range(1, count).Select(i => 9_000_000_000_000L + i).ToArray();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (id, ct) =>
        {
            var due = TimeSpan.FromSeconds((id - ids[0]) / rate) - clock.Elapsed;
            if (due > TimeSpan.Zero) await Task.Delay(due, ct);
            var body = template.DeepClone();
            body["id"] = id;
            body["admin_graphql_api_id"] = $"gid://shopify/Order/{id}";
            body["updated_at"] = DateTimeOffset.UtcNow.ToString("O");
            var line = 0;
            foreach (var item in body["line_items"]!.AsArray())
            {
                var lineId = id * 100 + line++; // line ids are unique per shop, as on Shopify
                item!["id"] = lineId;
                item["admin_graphql_api_id"] = $"gid://shopify/LineItem/{lineId}";
            }
            var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(bytes) };
            request.Headers.Add("X-Shopify-Topic", "orders/create");
            request.Headers.Add("X-Shopify-Shop-Domain", domain);
            request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
            request.Headers.Add("X-Shopify-Event-Id", Guid.NewGuid().ToString());
            request.Headers.Add("X-Shopify-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), bytes)));
            var response = await client.SendAsync(request, ct);
            response.EnsureSuccessStatusCode();
            acknowledged[id] = clock.ElapsedMilliseconds;
        });
        var sent = clock.ElapsedMilliseconds;
        done.CancelAfter(TimeSpan.FromMinutes(2));
        await watcher;

        var latencies = ids.Where(visible.ContainsKey).Select(id => visible[id] - acknowledged[id]).Order().ToArray();
        long P(double q) => latencies.Length == 0 ? -1 : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(q * latencies.Length) - 1)];
        Console.WriteLine($"webhooks: {count} at {rate}/s, all acknowledged in {sent} ms");
        Console.WriteLine($"applied: {latencies.Length}/{count}; 200 → visible: p50 {P(0.5)} ms, p95 {P(0.95)} ms, p99 {P(0.99)} ms, max {P(1)} ms");
        Console.WriteLine(latencies.Length == count && P(0.95) < 2000 ? "target (p95 < 2 s): met" : "target (p95 < 2 s): MISSED");
    }

    static string FindFixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Xeno.Web.Tests", "Fixtures", "shopify", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(name);
    }
}
