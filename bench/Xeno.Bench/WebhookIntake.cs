using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Xeno.ShopifyServer;

namespace Xeno.Bench;

/// <summary>
/// (4) Webhook intake: closed-loop load from wrk (one thread, precomputed signed bodies, a Lua script giving every request
/// its own webhook and event ids) at several concurrency levels for a fixed time each; <c>/healthz</c> the same way
/// first, as the floor of what any request costs. After each webhook level the bench waits (bounded) until Xeno has
/// processed what that level stored, so that levels do not inherit each other's backlog, and reports how long that took.
/// </summary>
internal static class WebhookIntake
{
    private sealed record Level(int Connections, double Rate, double P50, double P90, double P99, double Max, long Requests, long Errors,
        double CpuShare, TimeSpan? Drain, long Backlog);

    public static async Task RunAsync(BenchContext ctx, CancellationToken ct)
    {
        var env = ctx.Env;
        var o = ctx.Options;
        if (string.IsNullOrEmpty(Report.RunQuiet("sh", "-c \"command -v wrk\"")))
            throw new InvalidOperationException("wrk is not installed (bench/run installs it with apt-get; or apt-get install -y wrk).");
        var store = env.Stores.GetValueOrDefault("other-2") ?? await NewStoreAsync(ctx, ct);
        var workDir = Path.Combine(env.WorkDir, "wrk");
        Directory.CreateDirectory(workDir);

        // 2,000 distinct orders (bodies and HMACs), cycled by wrk; every request still gets its own ids.
        var requests = Path.Combine(workDir, "orders-create.tsv");
        var hooks = new OrderWebhooks(store.Shop, BenchEnvironment.AppSecret);
        var firstId = 600_000_000_000_000_000L + Random.Shared.NextInt64(1_000_000_000) * 10_000;
        await using (var file = new StreamWriter(requests, false, new UTF8Encoding(false)))
            for (var i = 0; i < 2000; i++)
            {
                var (body, hmac) = hooks.Make(firstId + i, DateTimeOffset.UtcNow);
                await file.WriteAsync(hmac + "\t" + Encoding.UTF8.GetString(body) + "\n");
            }
        var script = Path.Combine(AppContext.BaseDirectory, "wrk", "webhooks.lua");
        var reportScript = Path.Combine(AppContext.BaseDirectory, "wrk", "report.lua");
        // What earlier phases stored must be processed first: the webhooks queue is shared.
        var inbox = await Freshness.WaitForInboxAsync(ctx, TimeSpan.FromMinutes(o.Quick ? 3 : 5), ct);
        if (inbox is null) ctx.Report.Note($"Intake began with {Fmt.N0(await Freshness.PendingAsync(ctx, ct))} deliveries of earlier phases still unprocessed.");

        Log.Info("intake: /healthz levels");
        var health = new List<Level>();
        foreach (var c in o.IntakeConcurrency)
            health.Add(await RunLevelAsync(ctx, c, $"-s \"{reportScript}\" {env.Xeno.Url}/healthz", drain: false, ct));

        Log.Info("intake: warm-up of the webhook endpoint");
        await RunLevelAsync(ctx, 4, $"-s \"{script}\" {env.Xeno.Url}/webhooks/shopify -- \"{requests}\" {store.Domain} warm{Guid.NewGuid():N}",
            drain: true, ct, TimeSpan.FromSeconds(3));
        var hooksLevels = new List<Level>();
        List<string> waits = [];
        foreach (var c in o.IntakeConcurrency)
        {
            // The most loaded level is sampled: where intake saturates, and on what.
            var sampler = c == o.IntakeConcurrency.Max() ? WaitSampler.Start(env) : null;
            var level = await RunLevelAsync(ctx, c,
                $"-s \"{script}\" {env.Xeno.Url}/webhooks/shopify -- \"{requests}\" {store.Domain} c{c}x{Guid.NewGuid():N}", drain: true, ct,
                afterLoad: sampler is null ? null : async () => waits = await sampler.StopAsync());
            hooksLevels.Add(level);
            if (level.Backlog > 0) ctx.Report.Note($"Intake at {c} connections left {Fmt.N0(level.Backlog)} deliveries unprocessed after the {o.IntakeDrainWait.TotalSeconds:0} s wait; the next levels ran with that backlog being processed.");
        }
        Render(ctx, store, health, hooksLevels, waits);
    }

    private static async Task<Level> RunLevelAsync(BenchContext ctx, int connections, string target, bool drain, CancellationToken ct,
        TimeSpan? duration = null, Func<Task>? afterLoad = null)
    {
        var env = ctx.Env;
        var seconds = (int)(duration ?? ctx.Options.IntakeDuration).TotalSeconds;
        var cpu = env.Xeno.CpuSeconds;
        var clock = Stopwatch.StartNew();
        var output = await RunWrkAsync($"-t1 -c{connections} -d{seconds}s --timeout 5s {target}", ct);
        var wall = clock.Elapsed.TotalSeconds;
        if (afterLoad is not null) await afterLoad();
        var cpuShare = (env.Xeno.CpuSeconds - cpu) / wall / Environment.ProcessorCount;
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("BENCH ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("wrk printed no summary: " + output);
        var j = JsonNode.Parse(line[6..])!;
        long L(string k) => j[k]!.GetValue<long>();
        var requests = L("requests");
        var errors = L("connect") + L("read") + L("write") + L("status") + L("timeout");
        TimeSpan? drained = null;
        long backlog = 0;
        if (drain)
        {
            drained = await Freshness.WaitForInboxAsync(ctx, ctx.Options.IntakeDrainWait, ct);
            if (drained is null) backlog = await Freshness.PendingAsync(ctx, ct);
        }
        var level = new Level(connections, requests / (L("duration_us") / 1e6), L("p50_us") / 1000.0, L("p90_us") / 1000.0, L("p99_us") / 1000.0,
            L("max_us") / 1000.0, requests, errors, cpuShare, drained, backlog);
        Log.Info($"intake: {target.Split(' ')[2]} c={connections}: {level.Rate:F0}/s, p50 {level.P50:F1} ms, p99 {level.P99:F1} ms, {errors} errors" +
                 (drain ? $", processed after {(drained is { } d ? d.TotalSeconds.ToString("F1", Fmt.C) + " s" : "— (backlog " + backlog + ")")}" : ""));
        return level;
    }

    private static async Task<string> RunWrkAsync(string arguments, CancellationToken ct)
    {
        using var process = Process.Start(new ProcessStartInfo("wrk", arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try { await process.WaitForExitAsync(ct); }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
        return await stdout + await stderr;
    }

    private static async Task<BenchStore> NewStoreAsync(BenchContext ctx, CancellationToken ct)
    {
        ctx.Report.Note("Intake: the other stores of phase 3 were missing; a new store of 10k orders was connected for this phase.");
        var shop = ShopGenerator.Generate(402, 10_000, new ShopGeneratorOptions { Domain = "bench-intake.myshopify.com", Days = 730 });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        shop.Bulk.ProcessingDelay = TimeSpan.FromMilliseconds(10);
        var store = await ctx.Env.ConnectAsync("other-2", shop, ct);
        await ctx.Env.WaitForSyncAsync(store.Id, TimeSpan.FromMinutes(5), ct);
        return store;
    }

    private static void Render(BenchContext ctx, BenchStore store, List<Level> health, List<Level> hooks, List<string> waits)
    {
        var o = ctx.Options;
        var lines = new List<string>
        {
            $"Closed loop with wrk ({Report.RunQuiet("wrk", "--version").Split(" Copyright")[0].Trim()}, one thread: it shares the two cores with Xeno and PostgreSQL)",
            $"for {o.IntakeDuration.TotalSeconds:0} s at each number of connections. Webhooks: signed `orders/create` to store {store.Domain}, bodies",
            "made from the real fixture (2,000 distinct orders, precomputed with their HMACs, cycled), each request with its own",
            "`X-Shopify-Webhook-Id` and `X-Shopify-Event-Id` (so each is stored and processed); a 3 s warm-up first. After each level the bench",
            $"waits (up to {o.IntakeDrainWait.TotalSeconds:0} s) until Xeno has processed every stored delivery. `/healthz` was measured first, the same way.",
            "Latency is wrk's, from writing the request to reading the whole answer. A rate counts as sustained when p99 < 50 ms and no request failed.",
            "",
            "| connections | webhooks/s | p50 | p90 | p99 | max | failed | Xeno CPU | processed after | `/healthz`/s | p50 | p99 |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        };
        for (var i = 0; i < Math.Max(health.Count, hooks.Count); i++)
        {
            var w = i < hooks.Count ? hooks[i] : null;
            var h = i < health.Count ? health[i] : null;
            lines.Add($"| {(w ?? h)!.Connections} | " +
                      (w is null ? "— | — | — | — | — | — | — | — | " :
                          $"{Fmt.N0(w.Rate)} | {Fmt.Ms(w.P50)} | {Fmt.Ms(w.P90)} | {Fmt.Ms(w.P99)} | {Fmt.Ms(w.Max)} | {Fmt.N0(w.Errors)} | {Fmt.Pct(w.CpuShare)} | " +
                          $"{(w.Drain is { } d ? Fmt.S(d.TotalSeconds) : $"not within {o.IntakeDrainWait.TotalSeconds:0} s ({Fmt.N0(w.Backlog)} left)")} | ") +
                      (h is null ? "— | — | — |" : $"{Fmt.N0(h.Rate)} | {Fmt.Ms(h.P50)} | {Fmt.Ms(h.P99)} |"));
        }
        var best = hooks.Where(l => l.P99 < 50 && l.Errors == 0).MaxBy(l => l.Rate);
        var bestHealth = health.Where(l => l.P99 < 50 && l.Errors == 0).MaxBy(l => l.Rate);
        lines.Add("");
        lines.Add($"- **Sustained webhook intake: {(best is null ? "none of the levels kept p99 under 50 ms" : $"{Fmt.N0(best.Rate)} deliveries/s with p99 {Fmt.Ms(best.P99)}")}**" +
                  (best is null ? "" : $" ({best.Connections} connections)."));
        lines.Add($"- `/healthz` measured the same way: {(bestHealth is null ? "none of the levels kept p99 under 50 ms" : $"{Fmt.N0(bestHealth.Rate)} requests/s with p99 {Fmt.Ms(bestHealth.P99)} ({bestHealth.Connections} connections)")}.");
        var processed = hooks.Where(l => l.Drain is not null).ToList();
        if (processed.Count > 0)
        {
            // Deliveries of a level ÷ (its duration + the wait until all were processed): processing throughput.
            var rates = processed.Select(l => l.Requests / (o.IntakeDuration.TotalSeconds + l.Drain!.Value.TotalSeconds)).ToList();
            lines.Add($"- Processing (stored deliveries applied to the store's data), from the levels whose backlog drained: " +
                      $"{Fmt.N0(rates.Min())} to {Fmt.N0(rates.Max())} deliveries/s (a level's deliveries ÷ its time plus the time to process what remained).");
        }
        if (waits.Count > 0) lines.AddRange(["", $"During the webhook level of {o.IntakeConcurrency.Max()} connections:", "", .. waits]);
        ctx.Report.Section("4. Webhook intake", lines);

        const string name = "Webhook intake ≥ 1,500 deliveries/s with p99 < 50 ms";
        ctx.Report.Target(best is null
            ? new TargetResult(name, "no level with p99 < 50 ms", false, $"best p99 {Fmt.Ms(hooks.Count > 0 ? hooks.Min(l => l.P99) : double.NaN)}")
            : TargetResult.AtLeast(name, best.Rate, 1500, v => Fmt.N0(v) + "/s", $"{Fmt.N0(best.Rate)}/s, p99 {Fmt.Ms(best.P99)}"));
    }
}
