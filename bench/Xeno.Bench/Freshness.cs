using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Xeno.ShopifyServer;

namespace Xeno.Bench;

/// <summary>
/// (5) Freshness: an open loop of signed <c>orders/create</c> deliveries at 200 per second, each a new order dated now,
/// while <c>/metrics/summary</c> for the store's local today is polled every 50 ms. The k-th delivery (in the order of
/// their 200s) counts as visible at the first poll answered after its 200 whose orders count is at least the count
/// before the run plus k; its freshness is that poll's arrival minus its 200's.
/// </summary>
internal static class Freshness
{
    public static async Task RunAsync(BenchContext ctx, CancellationToken ct)
    {
        var env = ctx.Env;
        var o = ctx.Options;
        var store = env.Stores.GetValueOrDefault("other-1") ?? await NewStoreAsync(ctx, ct);
        var hooks = new OrderWebhooks(store.Shop, BenchEnvironment.AppSecret);
        var today = FirstDashboard.LocalToday(store.Shop);
        var summaryPath = $"/api/v1/stores/{store.Id}/metrics/summary?from={today:yyyy-MM-dd}&to={today:yyyy-MM-dd}";
        await WaitForInboxAsync(ctx, TimeSpan.FromMinutes(2), ct);
        var baseline = (await env.GetJsonAsync(summaryPath, ct))["orders"]!.GetValue<int>();

        var total = (int)(o.FreshnessRate * o.FreshnessDuration.TotalSeconds);
        var acks = new ConcurrentBag<(double At, double Latency)>();
        var failures = 0;
        var polls = new List<(double At, int Orders)>();
        var clock = Stopwatch.StartNew();
        using var stopPolling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        env.Xeno.Mark($"freshness: {total} deliveries at {o.FreshnessRate}/s to {store.Domain}");
        var cpuBefore = env.Xeno.CpuSeconds;
        var sampler = WaitSampler.Start(env);

        var poller = Task.Run(async () =>
        {
            var next = 0.0;
            while (!stopPolling.IsCancellationRequested)
            {
                try
                {
                    var summary = await env.GetJsonAsync(summaryPath, stopPolling.Token);
                    lock (polls) polls.Add((clock.Elapsed.TotalMilliseconds, summary["orders"]!.GetValue<int>()));
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                next += 50;
                var wait = next - clock.Elapsed.TotalMilliseconds;
                if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait), stopPolling.Token).ContinueWith(_ => { });
                else next = clock.Elapsed.TotalMilliseconds;
            }
        }, CancellationToken.None);

        // The open loop: delivery k leaves at k / rate, whether or not earlier ones were answered.
        var firstId = 500_000_000_000_000_000L + Random.Shared.NextInt64(1_000_000_000) * 1000;
        var sends = new List<Task>(total);
        for (var k = 0; k < total; k++)
        {
            var due = k * 1000.0 / o.FreshnessRate;
            var wait = due - clock.Elapsed.TotalMilliseconds;
            if (wait > 1) await Task.Delay(TimeSpan.FromMilliseconds(wait), ct);
            var id = firstId + k;
            sends.Add(Task.Run(async () =>
            {
                var (body, hmac) = hooks.Make(id, DateTimeOffset.UtcNow);
                using var request = new HttpRequestMessage(HttpMethod.Post, env.Xeno.Url + "/webhooks/shopify") { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Add("X-Shopify-Topic", "orders/create");
                request.Headers.Add("X-Shopify-Shop-Domain", store.Domain);
                request.Headers.Add("X-Shopify-Hmac-Sha256", hmac);
                request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
                request.Headers.Add("X-Shopify-Event-Id", Guid.NewGuid().ToString());
                request.Headers.Add("X-Shopify-API-Version", "2026-10");
                var sent = clock.Elapsed.TotalMilliseconds;
                try
                {
                    using var response = await env.Http.SendAsync(request, ct);
                    var at = clock.Elapsed.TotalMilliseconds;
                    if (response.StatusCode == HttpStatusCode.OK) acks.Add((at, at - sent));
                    else Interlocked.Increment(ref failures);
                }
                catch (HttpRequestException) { Interlocked.Increment(ref failures); }
            }, ct));
        }
        await Task.WhenAll(sends);
        var sentIn = clock.Elapsed;
        var waits = await sampler.StopAsync();
        var cpuSending = env.Xeno.CpuSeconds - cpuBefore;

        // Until every acknowledged order is counted, bounded.
        var target = baseline + acks.Count;
        var deadline = clock.Elapsed + TimeSpan.FromMinutes(o.Quick ? 1 : 2);
        while (clock.Elapsed < deadline)
        {
            lock (polls) if (polls.Count > 0 && polls[^1].Orders >= target) break;
            await Task.Delay(100, ct);
        }
        await stopPolling.CancelAsync();
        await poller;
        var sameDay = FirstDashboard.LocalToday(store.Shop) == today;

        // The k-th 200 is visible at the first later poll whose count reaches baseline + k.
        var ordered = acks.OrderBy(a => a.At).ToList();
        var fresh = new List<double>();
        var p = 0;
        for (var k = 0; k < ordered.Count; k++)
        {
            while (p < polls.Count && (polls[p].At < ordered[k].At || polls[p].Orders - baseline < k + 1)) p++;
            if (p == polls.Count) break;
            fresh.Add(polls[p].At - ordered[k].At);
        }
        fresh.Sort();
        var ackLatency = ordered.Select(a => a.Latency).Order().ToList();
        var missing = ordered.Count - fresh.Count;
        var rate = ordered.Count / sentIn.TotalSeconds;
        var p95 = missing > 0 ? double.PositiveInfinity : Stats.Percentile(fresh, 0.95);
        var finalCount = polls.Count > 0 ? polls[^1].Orders - baseline : 0;

        var lines = new List<string>
        {
            $"Store {store.Domain} ({Fmt.N0(store.Orders)} orders of history). An open loop sends {Fmt.N0(total)} signed `orders/create` deliveries,",
            $"one every {1000 / o.FreshnessRate:0} ms ({o.FreshnessRate:0}/s for {o.FreshnessDuration.TotalSeconds:0} s), each a new order dated now (body: the real fixture, new ids, price varied,",
            "re-signed), from the bench's HttpClient. Meanwhile `GET /metrics/summary` for the store's local today is polled every 50 ms.",
            "The k-th delivery to be answered 200 counts as visible at the first poll answered after that 200 whose `orders` is at least",
            "the count before the run + k (the summary only counts; orders may be applied out of order, so this is the time until k orders",
            "are in). Freshness = that poll's arrival − the 200's arrival.",
            "",
            "| | |",
            "|---|---|",
            $"| deliveries answered 200 / sent | {Fmt.N0(ordered.Count)} / {Fmt.N0(total)} ({failures} failed) |",
            $"| rate achieved | {Fmt.N1(rate)} per second |",
            $"| 200's latency p50 / p99 / max | {Fmt.Ms(Stats.Percentile(ackLatency, 0.5))} / {Fmt.Ms(Stats.Percentile(ackLatency, 0.99))} / {Fmt.Ms(ackLatency.Count > 0 ? ackLatency[^1] : double.NaN)} |",
            $"| **freshness p50 / p95 / max** | {Fmt.Ms(Stats.Percentile(fresh, 0.5))} / **{Fmt.Ms(Stats.Percentile(fresh, 0.95))}** / {Fmt.Ms(fresh.Count > 0 ? fresh[^1] : double.NaN)} |",
            $"| deliveries never seen counted (within the wait) | {Fmt.N0(missing)} (orders counted: {Fmt.N0(finalCount)} of {Fmt.N0(ordered.Count)}) |",
            $"| summary polls | {Fmt.N0(polls.Count)} |",
            $"| Xeno's CPU while sending | {Fmt.Pct(cpuSending / sentIn.TotalSeconds / Environment.ProcessorCount)} of the machine ({cpuSending:0.0} s of CPU in {sentIn.TotalSeconds:0.0} s) |",
        };
        if (waits.Count > 0) lines.AddRange(["", "While the deliveries were sent:", "", .. waits]);
        if (!sameDay) lines.AddRange(["", "- The store's local date changed during the run: its numbers are not meaningful."]);
        ctx.Report.Section("5. Freshness", lines);
        const string name = "Freshness p95 < 2 s at 200 deliveries/s";
        ctx.Report.Target(fresh.Count == 0
            ? new TargetResult(name, "no delivery seen counted", false, $"{missing} deliveries not counted within the wait")
            : missing > 0
                ? new TargetResult(name, $"{missing} of {ordered.Count} never counted", false, $"p95 unbounded (p95 of those seen: {Fmt.Ms(Stats.Percentile(fresh, 0.95))})")
                : TargetResult.AtMost(name, p95, 2000, Fmt.Ms, $"{Fmt.Ms(p95)} at {Fmt.N1(rate)}/s"));
    }

    private static async Task<BenchStore> NewStoreAsync(BenchContext ctx, CancellationToken ct)
    {
        ctx.Report.Note("Freshness: the other stores of phase 3 were missing; a new store of 10k orders was connected for this phase.");
        var shop = ShopGenerator.Generate(401, 10_000, new ShopGeneratorOptions { Domain = "bench-freshness.myshopify.com", Days = 730 });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        shop.Bulk.ProcessingDelay = TimeSpan.FromMilliseconds(10);
        var store = await ctx.Env.ConnectAsync("other-1", shop, ct);
        await ctx.Env.WaitForSyncAsync(store.Id, TimeSpan.FromMinutes(5), ct);
        return store;
    }

    /// <summary>Waits until no stored delivery of any store is waiting to be processed (the webhooks queue is shared); how
    /// long it took, or null when the bound passed first.</summary>
    public static async Task<TimeSpan?> WaitForInboxAsync(BenchContext ctx, TimeSpan bound, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < bound)
        {
            if (await PendingAsync(ctx, ct) == 0) return clock.Elapsed;
            await Task.Delay(200, ct);
        }
        return null;
    }

    /// <summary>Deliveries stored and not yet processed, over every store (each read with its tenant set).</summary>
    public static async Task<long> PendingAsync(BenchContext ctx, CancellationToken ct)
    {
        long pending = 0;
        await using var conn = await ctx.Env.OwnerAsync(null, ct);
        foreach (var store in ctx.Env.Stores.Values)
        {
            await using var cmd = new Npgsql.NpgsqlCommand(
                "SELECT set_config('app.tenant_id', @t, false); SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'", conn);
            cmd.Parameters.AddWithValue("t", store.Id.ToString());
            await using var r = await cmd.ExecuteReaderAsync(ct);
            await r.NextResultAsync(ct);
            await r.ReadAsync(ct);
            pending += r.GetInt64(0);
        }
        return pending;
    }
}
