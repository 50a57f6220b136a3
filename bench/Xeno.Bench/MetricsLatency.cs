using System.Diagnostics;
using Xeno.ShopifyServer;

namespace Xeno.Bench;

/// <summary>
/// (3) p50 and p95 of every metrics endpoint, for 30 and 365 days ending the store's local today, at 10k and 1M
/// orders, with ten other tenants' data present: warm-up, then sequential requests on one kept-alive connection,
/// timed from sending the request to the last byte of the answer.
/// </summary>
internal static class MetricsLatency
{
    private sealed record Cell(string Endpoint, string Range, double P50, double P95, double Max, int Count, string? Error);

    private static readonly string[] RangeEndpoints = ["summary", "daily", "top-customers", "products", "checkouts"];

    public static async Task RunAsync(BenchContext ctx, CancellationToken ct)
    {
        var env = ctx.Env;
        var o = ctx.Options;
        var notes = new List<string>();
        var invalid = new HashSet<string>();

        // The stores measured: the backfill's, or new ones when the backfill did not run or failed.
        var small = await StoreAsync(ctx, "backfill-10k", o.MetricsSmall, 111, notes, ct);
        BenchStore? large = null;
        if (o.MetricsLarge is { } largeOrders)
        {
            large = env.Stores.GetValueOrDefault("backfill-1M");
            if (large is null) notes.Add($"The {Backfill.Label(largeOrders)} store is missing (its backfill failed or did not run): not measured.");
        }

        // Ten other tenants, connected together (Xeno syncs them side by side), each waited for.
        Log.Info($"metrics: connecting {o.OtherTenants} other stores of {Fmt.N0(o.OtherTenantOrders)} orders");
        var others = new List<BenchStore>();
        for (var i = 0; i < o.OtherTenants; i++)
        {
            var shop = ShopGenerator.Generate(300 + i, o.OtherTenantOrders, new ShopGeneratorOptions
            {
                Domain = $"bench-other-{i + 1}.myshopify.com", Name = $"Other {i + 1}", Days = 730,
            });
            shop.RateLimit.Configure(1_000_000, 1_000_000);
            shop.Bulk.ProcessingDelay = TimeSpan.FromMilliseconds(10);
            others.Add(await env.ConnectAsync($"other-{i + 1}", shop, ct));
        }
        var clock = Stopwatch.StartNew();
        foreach (var other in others)
        {
            var status = await env.WaitForSyncAsync(other.Id, TimeSpan.FromMinutes(o.Quick ? 4 : 10) - clock.Elapsed, ct);
            if (status != "succeeded") notes.Add($"The sync of {other.Domain} ended {status}.");
        }
        Log.Info($"metrics: other stores synced in {clock.Elapsed.TotalSeconds:F0} s; VACUUM ANALYZE");

        clock.Restart();
        await env.ScalarAsync<object?>(null, "VACUUM ANALYZE", ct);
        var vacuum = clock.Elapsed;
        var storeCount = await env.ScalarAsync<long>(null, "SELECT count(*) FROM stores", ct);

        var cells = new Dictionary<string, List<Cell>>();
        foreach (var (label, store) in new[] { ("10k", small), ("1M", large) })
        {
            if (store is null) continue;
            // The dashboards read aggregates: a store whose sync failed has them only once Xeno's minutely job built them.
            var wait = Stopwatch.StartNew();
            while (!await env.ScalarAsync<bool>(null, $"SELECT aggregates_timezone IS NOT NULL FROM stores WHERE id = '{store.Id}'", ct)
                   && wait.Elapsed < TimeSpan.FromMinutes(o.Quick ? 2 : 5))
                await Task.Delay(1000, ct);
            var days = await env.ScalarAsync<long>(store.Id, "SELECT count(*) FROM daily_metrics", ct);
            if (days == 0)
            {
                // What a merchant would do: "Sync now", full. Its rebuild of the aggregates runs on analyzed tables by now.
                notes.Add($"The {label} store had no aggregates (its sync failed; see phase 1), so the bench asked Xeno for a full sync of it " +
                          "(`POST /api/v1/stores/{id}/sync {mode: full}`) and waited for it.");
                Log.Info($"metrics: the {label} store has no aggregates; a full sync of it");
                using (var request = env.Api(HttpMethod.Post, $"/api/v1/stores/{store.Id}/sync", new { mode = "full" }))
                using (var response = await env.Http.SendAsync(request, ct))
                    response.EnsureSuccessStatusCode();
                await Task.Delay(1000, ct);
                var status = await env.WaitForSyncAsync(store.Id, TimeSpan.FromMinutes(store.Orders >= 1_000_000 ? 20 : 4), ct);
                days = await env.ScalarAsync<long>(store.Id, "SELECT count(*) FROM daily_metrics", ct);
                notes.Add($"That sync ended {status}; the store then had {(days == 0 ? "still no" : "its")} aggregates.");
            }
            if (days == 0)
            {
                notes.Add($"The {label} store has no aggregates: its endpoints answer from empty tables, so it is left out of the table and the targets.");
                invalid.Add(label);
            }
            else if (wait.Elapsed > TimeSpan.FromSeconds(2))
                notes.Add($"The {label} store's aggregates were not there when the phase began; the bench waited {wait.Elapsed.TotalSeconds:0} s for them.");
            Log.Info($"metrics: measuring the {label} store");
            cells[label] = await MeasureStoreAsync(ctx, store, ct);
        }
        foreach (var label in invalid) cells.Remove(label);
        Render(ctx, cells, notes, storeCount, vacuum);
    }

    private static async Task<BenchStore?> StoreAsync(BenchContext ctx, string role, int orders, int seed, List<string> notes, CancellationToken ct)
    {
        if (ctx.Env.Stores.TryGetValue(role, out var store)) return store;
        notes.Add($"The {Backfill.Label(orders)} store of the backfill was missing; a new one was connected for this phase.");
        var shop = ShopGenerator.Generate(seed, orders, new ShopGeneratorOptions { Domain = $"bench-metrics-{Backfill.Label(orders).ToLowerInvariant()}.myshopify.com", Days = 730 });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        shop.Bulk.ProcessingDelay = TimeSpan.FromMilliseconds(10);
        store = await ctx.Env.ConnectAsync(role, shop, ct);
        var status = await ctx.Env.WaitForSyncAsync(store.Id, TimeSpan.FromMinutes(6), ct);
        if (status != "succeeded") notes.Add($"Its sync ended {status}.");
        return store;
    }

    private static async Task<List<Cell>> MeasureStoreAsync(BenchContext ctx, BenchStore store, CancellationToken ct)
    {
        var today = FirstDashboard.LocalToday(store.Shop);
        var cells = new List<Cell>();
        foreach (var endpoint in RangeEndpoints)
            foreach (var days in new[] { 30, 365 })
                cells.Add(await MeasureAsync(ctx, store, endpoint, $"{days} days",
                    $"?from={today.AddDays(1 - days):yyyy-MM-dd}&to={today:yyyy-MM-dd}", ct));
        cells.Add(await MeasureAsync(ctx, store, "segments", "as of today", $"?asOf={today:yyyy-MM-dd}", ct));
        return cells;
    }

    private static async Task<Cell> MeasureAsync(BenchContext ctx, BenchStore store, string endpoint, string range, string query, CancellationToken ct)
    {
        var path = $"/api/v1/stores/{store.Id}/metrics/{endpoint}{query}";
        var times = new List<double>();
        try
        {
            for (var i = 0; i < ctx.Options.MetricsWarmup + ctx.Options.MetricsRequests; i++)
            {
                using var request = ctx.Env.Api(HttpMethod.Get, path);
                var clock = Stopwatch.StartNew();
                using var response = await ctx.Env.Http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
                var elapsed = clock.Elapsed.TotalMilliseconds;
                if (!response.IsSuccessStatusCode)
                    throw new HttpRequestException($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                if (i >= ctx.Options.MetricsWarmup) times.Add(elapsed);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new Cell(endpoint, range, double.NaN, double.NaN, double.NaN, times.Count, e.Message);
        }
        times.Sort();
        return new Cell(endpoint, range, Stats.Percentile(times, 0.5), Stats.Percentile(times, 0.95), times[^1], times.Count, null);
    }

    private static void Render(BenchContext ctx, Dictionary<string, List<Cell>> cells, List<string> notes, long storeCount, TimeSpan vacuum)
    {
        var o = ctx.Options;
        var small = cells.GetValueOrDefault("10k");
        var large = cells.GetValueOrDefault("1M");
        var lines = new List<string>
        {
            $"The store of 10k orders{(o.MetricsLarge is null ? "" : " and the store of 1M orders")} of the backfill, with {o.OtherTenants} other stores of",
            $"{Fmt.N0(o.OtherTenantOrders)} orders each connected and synced beforehand ({storeCount} stores in the database, counting the",
            $"first-dashboard store), then `VACUUM ANALYZE` of the whole database as its owner ({Fmt.S(vacuum.TotalSeconds)}). For each endpoint and range:",
            $"{o.MetricsWarmup} warm-up requests, then {o.MetricsRequests} sequential requests (one kept-alive connection, bearer token), each timed",
            "from sending to the last byte received. Ranges end on the store's local today. Limits: p95 < 50 ms; p95 at 1M ≤ 1.5 × p95 at 10k.",
            "",
            large is null
                ? "| endpoint | range | 10k p50 | 10k p95 | < 50 ms |"
                : "| endpoint | range | 10k p50 | 10k p95 | 1M p50 | 1M p95 | 1M ÷ 10k (p95) | < 50 ms | ≤ 1.5× |",
            large is null ? "|---|---|---|---|---|" : "|---|---|---|---|---|---|---|---|---|",
        };
        var worstP95 = (Value: double.NaN, Where: "");
        var worstRatio = (Value: double.NaN, Where: "");
        var errors = new List<string>();
        var rows = (small ?? large ?? []).Count;
        for (var i = 0; i < rows; i++)
        {
            var s = small?[i];
            var l = large?[i];
            var any = (s ?? l)!;
            string P(Cell? c, Func<Cell, double> f) => c is null ? "—" : c.Error is not null ? "error" : Fmt.Ms(f(c));
            foreach (var (c, size) in new[] { (s, "10k"), (l, "1M") })
            {
                if (c is null) continue;
                if (c.Error is not null) errors.Add($"{c.Endpoint} ({c.Range}) at {size}: {c.Error}");
                else if (double.IsNaN(worstP95.Value) || c.P95 > worstP95.Value) worstP95 = (c.P95, $"{c.Endpoint}, {c.Range}, {size}");
            }
            var under = new[] { s, l }.Where(c => c is not null).All(c => c!.Error is null && c.P95 < 50);
            if (large is null)
            {
                lines.Add($"| {any.Endpoint} | {any.Range} | {P(s, c => c.P50)} | {P(s, c => c.P95)} | {(under ? "pass" : "**MISS**")} |");
                continue;
            }
            var ratio = s is { Error: null } && l is { Error: null } ? l.P95 / s.P95 : double.NaN;
            if (!double.IsNaN(ratio) && (double.IsNaN(worstRatio.Value) || ratio > worstRatio.Value)) worstRatio = (ratio, $"{any.Endpoint}, {any.Range}");
            lines.Add($"| {any.Endpoint} | {any.Range} | {P(s, c => c.P50)} | {P(s, c => c.P95)} | {P(l, c => c.P50)} | {P(l, c => c.P95)} | " +
                      $"{(double.IsNaN(ratio) ? "—" : ratio.ToString("0.00", Fmt.C) + "×")} | {(under ? "pass" : "**MISS**")} | " +
                      $"{(double.IsNaN(ratio) ? "—" : ratio <= 1.5 ? "pass" : "**MISS**")} |");
        }
        foreach (var e in errors) notes.Add("Error: " + e);
        if (notes.Count > 0) { lines.Add(""); lines.AddRange(notes.Select(n => "- " + n)); }
        ctx.Report.Section("3. Metrics latency", lines);

        const string p95Target = "Metrics p95 < 50 ms, every endpoint and range (10k and 1M)";
        if (small is null && large is null) ctx.Report.Target(TargetResult.NotMeasured(p95Target, "no store measured"));
        else if (errors.Count > 0) ctx.Report.Target(new TargetResult(p95Target, $"{errors.Count} endpoint(s) failed", false, errors[0]));
        else
        {
            var t = TargetResult.AtMost(p95Target, worstP95.Value, 50, Fmt.Ms, $"worst p95 {Fmt.Ms(worstP95.Value)} ({worstP95.Where})");
            ctx.Report.Target(large is null ? t with { Pass = null, Detail = t.Detail + "; quick run: 10k only" } : t);
        }
        const string ratioTarget = "Metrics p95 at 1M ≤ 1.5 × p95 at 10k, every endpoint and range";
        ctx.Report.Target(large is null || double.IsNaN(worstRatio.Value)
            ? TargetResult.NotMeasured(ratioTarget, o.MetricsLarge is null ? "quick run (no 1M store)" : "the 1M store is missing")
            : TargetResult.AtMost(ratioTarget, worstRatio.Value, 1.5, v => v.ToString("0.00", Fmt.C) + "×",
                $"worst {worstRatio.Value:0.00}× ({worstRatio.Where})", strict: false));
    }
}
