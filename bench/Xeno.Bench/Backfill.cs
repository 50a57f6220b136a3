using System.Diagnostics;
using Xeno.ShopifyServer;

namespace Xeno.Bench;

/// <summary>
/// (1) Backfill throughput and peak memory. For each size: the shop is generated, the raw COPY baseline writes its
/// rows, then the shop is connected through Xeno's API with a generous rate limit and a 10 ms bulk delay (so that Xeno
/// is what is measured), and the sync is watched to its end.
/// </summary>
internal static class Backfill
{
    internal sealed record Result(int Orders, BenchStore? Store, SyncTimeline Timeline, DateTimeOffset? OrdersFileCompleted, RawCopyResult? Copy,
        string? CopyError, double PeakRssMb, TimeSpan Generation, long StoredOrders, long StoredLines, long StoredRefunds, long StoredRefundLines,
        MachineLoad.Share? CopyLoad, MachineLoad.Share SyncLoad, List<string> Waits, long AggregatedOrders, int CountedOrders)
    {
        public BulkFileTimes? OrdersFile => Timeline.Orders;
        public double LoadSeconds => OrdersFile is { PickedUp: { } p, Loaded: { } l } ? (l - p).TotalSeconds : double.NaN;
        public double OrdersPerSecond => Orders / LoadSeconds;
        public double FromReadySeconds => OrdersFile is { Loaded: { } l } && OrdersFileCompleted is { } c ? (l - c).TotalSeconds : double.NaN;
    }

    public static string Label(int orders) => orders >= 1_000_000 ? $"{orders / 1_000_000}M" : orders >= 1000 ? $"{orders / 1000}k" : orders.ToString(Fmt.C);

    public static async Task RunAsync(BenchContext ctx, CancellationToken ct)
    {
        var results = new List<Result>();
        var seed = 101;
        foreach (var size in ctx.Options.BackfillSizes)
        {
            try
            {
                using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
                bound.CancelAfter(TimeBound(size));
                results.Add(await MeasureAsync(ctx, size, seed++, bound.Token));
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                ctx.Report.Failed($"backfill of {Label(size)} orders", e);
            }
        }
        Render(ctx, results);
    }

    private static TimeSpan TimeBound(int orders) => orders switch
    {
        <= 10_000 => TimeSpan.FromMinutes(6),
        <= 100_000 => TimeSpan.FromMinutes(15),
        _ => TimeSpan.FromMinutes(40),
    };

    private static async Task<Result> MeasureAsync(BenchContext ctx, int orders, int seed, CancellationToken ct)
    {
        var env = ctx.Env;
        var label = Label(orders);
        Log.Info($"backfill {label}: generating the shop");
        var clock = Stopwatch.StartNew();
        var shop = ShopGenerator.Generate(seed, orders, new ShopGeneratorOptions
        {
            Domain = $"bench-backfill-{label.ToLowerInvariant()}.myshopify.com", Name = $"Backfill {label}", Days = 730,
        });
        var generation = clock.Elapsed;
        Log.Info($"backfill {label}: generated in {generation.TotalSeconds:F1} s; raw COPY baseline");

        RawCopyResult? copy = null;
        string? copyError = null;
        MachineLoad.Share? copyLoad = null;
        try
        {
            var before = env.Load.Take();
            copy = await RawCopy.RunAsync(env, shop, ct);
            copyLoad = MachineLoad.Between(before, env.Load.Take());
            Log.Info($"backfill {label}: raw COPY of {Fmt.N0(copy.Rows)} rows in {copy.Elapsed.TotalSeconds:F1} s = {Fmt.N0(copy.OrdersPerSecond)} orders/s");
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            copyError = e.Message;
            ctx.Report.Failed($"raw COPY of {label} orders", e);
        }
        GC.Collect();

        // Xeno is what is measured: a bucket that never runs dry and bulk files ready at once.
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        shop.Bulk.ProcessingDelay = TimeSpan.FromMilliseconds(10);
        env.Xeno.Mark($"backfill {label}: connecting {shop.MyshopifyDomain}");
        env.Xeno.ResetPeak();
        var syncBefore = env.Load.Take();
        var sampler = WaitSampler.Start(env);
        var timeline = new SyncTimeline { ConnectSent = DateTimeOffset.UtcNow };
        var store = await env.ConnectAsync("backfill-" + label, shop, ct);
        timeline.ConnectAnswered = DateTimeOffset.UtcNow;
        Log.Info($"backfill {label}: connected store {store.Id}; watching its sync");
        await SyncMonitor.WatchAsync(env, store.Id, timeline, TimeBound(orders) - TimeSpan.FromMinutes(1), ct,
            afterFailure: TimeSpan.FromMinutes(ctx.Options.Quick ? 3 : 5), detailsBound: TimeSpan.FromMinutes(ctx.Options.Quick ? 3 : 6));
        if (timeline.DetailsCutOff is not null)
        {
            // The refunds' details would go on for long (see the note): the shop's bucket is made to refill at 1 point/s, so
            // that Xeno waits between requests instead of keeping the Shopify server (this process) and PostgreSQL busy
            // during the later phases. The sync stays running.
            shop.RateLimit.Configure(1_000, 1);
            ctx.Report.Note($"backfill {label}: the refund details were still being fetched {Fmt.Duration(timeline.DetailsCutOff.Value - timeline.AggregatesBuilt!.Value)} after the " +
                            $"aggregates were built ({Fmt.N0(timeline.RefundsPendingAtCutOff)} of {Fmt.N0(timeline.RefundsPendingAtAggregates)} refunds pending); the bench stopped " +
                            "watching and parked the sync (the shop's bucket set to refill at 1 point/s, so that it stays out of the later phases' way). " +
                            "Refund details come 20 to a `nodes(ids:)` query and are written 200 at a time, each write with a refresh of the aggregates of the days and customers it touches.");
        }
        var peak = env.Xeno.PeakRssMb ?? double.NaN;
        var syncLoad = MachineLoad.Between(syncBefore, env.Load.Take());
        var waits = await sampler.StopAsync();
        env.Xeno.Mark($"backfill {label}: sync {timeline.Status}");
        if (timeline.Error is not null && !timeline.Succeeded) ctx.Report.Note($"backfill {label}: {timeline.Error}");

        var completed = timeline.Orders is { OperationId: { Length: > 0 } id } ? shop.Bulk.Find(id)?.CompletedAt : null;
        var counts = await CountAsync(env, store.Id, ct);
        var aggregated = await env.ScalarAsync<long>(store.Id, "SELECT coalesce(sum(orders), 0)::bigint FROM daily_metrics", ct);
        var today = FirstDashboard.LocalToday(shop);
        var counted = FirstDashboard.CountedOrders(shop, today.AddDays(-3650), today);
        if (timeline.AggregatesTimezoneSet is { } early && (timeline.AllFilesDone is null || early < timeline.AllFilesDone))
            ctx.Report.Note($"backfill {label}: the store's aggregates were first built {Fmt.S((early - timeline.ConnectSent).TotalSeconds)} after the connect request, " +
                            $"before every bulk file was loaded{(timeline.AllFilesDone is { } done ? $" ({Fmt.S((done - timeline.ConnectSent).TotalSeconds)})" : "")}: " +
                            "by Xeno's minutely BuildAggregates job, which builds those of any store that has none, a store being backfilled included.");
        if (!timeline.Succeeded && XenoLogExcerpt(env, timeline.RunId) is { } why)
            ctx.Report.Note($"backfill {label}: Xeno's log on the failed sync: {why}");
        if (aggregated != counted)
            ctx.Report.Note($"backfill {label}: after the watch the store's aggregates count {Fmt.N0(aggregated)} orders of the {Fmt.N0(counted)} counted orders " +
                            $"Xeno stored: its dashboard {(aggregated == 0 ? "shows no sales at all" : "is incomplete")}.");
        var result = new Result(orders, store, timeline, completed, copy, copyError, peak, generation, counts[0], counts[1], counts[2], counts[3], copyLoad, syncLoad, waits, aggregated, counted);
        Log.Info($"backfill {label}: sync {timeline.Status}; orders file {Fmt.N0(result.OrdersPerSecond)} orders/s; peak RSS {Fmt.Mb(peak)}");
        if (counts[0] != shop.Orders.Count)
            ctx.Report.Note($"backfill {label}: Xeno stored {Fmt.N0(counts[0])} orders of the shop's {Fmt.N0(shop.Orders.Count)}.");
        return result;
    }

    /// <summary>The exception lines Xeno logged for a failed run: its first lines after the "failed" line.</summary>
    public static string? XenoLogExcerpt(BenchEnvironment env, Guid runId)
    {
        try
        {
            var lines = File.ReadAllLines(env.XenoLogPath);
            var i = Array.FindLastIndex(lines, l => l.Contains($"Sync {runId}", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal));
            if (i < 0) return null;
            var following = lines.Skip(i + 1).Take(40).Select(l => l.Length > 13 ? l[13..].Trim() : l.Trim()).ToList();
            var detail = following.Where(l => l.Length > 0 && !l.StartsWith("at ", StringComparison.Ordinal) && !l.StartsWith("--- bench", StringComparison.Ordinal)).Take(2)
                .Concat(following.Where(l => l.StartsWith("at Xeno.", StringComparison.Ordinal)).Select(l => l.Split(" in ")[0]).Distinct().Take(3));
            return "`" + string.Join(" / ", detail).Replace("`", "'") + "`";
        }
        catch (IOException) { return null; }
    }

    private static async Task<long[]> CountAsync(BenchEnvironment env, Guid store, CancellationToken ct)
    {
        var counts = new long[4];
        var tables = new[] { "orders", "order_lines", "refunds", "refund_lines" };
        for (var i = 0; i < tables.Length; i++) counts[i] = await env.ScalarAsync<long>(store, $"SELECT count(*) FROM {tables[i]}", ct);
        return counts;
    }

    private static void Render(BenchContext ctx, List<Result> results)
    {
        var lines = new List<string>
        {
            "Each shop (730 days of history) is connected through `POST /api/v1/stores`; Xeno's full sync starts one bulk operation per kind",
            "(products, customers, orders, abandoned checkouts) and loads the files one after another. The Shopify server's rate limit is",
            "1,000,000 points restoring 1,000,000/s and its bulk delay 10 ms. **Load** = from Xeno picking up the orders file (its",
            "`sync_bulk_files` row leaving `running`) to the row becoming `loaded` (every batch committed), polled every 50 ms;",
            "**orders/s** = the shop's orders ÷ load time (each with its lines and its refunds' ids and dates). **Raw COPY** = binary COPY of",
            "the same orders, lines, refunds and refund lines into the same tables (one transaction, superuser, rows prepared in memory",
            "beforehand). **Peak RSS** = Xeno's `VmHWM` from the connect request to the sync's end (reset before).",
            "",
            "| | " + string.Join(" | ", results.Select(r => Label(r.Orders) + " orders")) + " |",
            "|---|" + string.Join("", results.Select(_ => "---|")),
        };
        void Row(string name, Func<Result, string> value) => lines.Add($"| {name} | " + string.Join(" | ", results.Select(value)) + " |");
        Row("shop generated in (bench process)", r => Fmt.S(r.Generation.TotalSeconds));
        Row("orders file: lines (orders + line items)", r => r.OrdersFile is { } f ? Fmt.N0(f.ObjectCount) : "—");
        Row("orders counted by the store's aggregates (the dashboard) / counted orders", r => $"{Fmt.N0(r.AggregatedOrders)} / {Fmt.N0(r.CountedOrders)}");
        Row("stored: orders / lines / refunds / refund lines", r => $"{Fmt.N0(r.StoredOrders)} / {Fmt.N0(r.StoredLines)} / {Fmt.N0(r.StoredRefunds)} / {Fmt.N0(r.StoredRefundLines)}");
        Row("orders file ready (server) → Xeno picks it up", r => r.OrdersFile?.PickedUp is { } p && r.OrdersFileCompleted is { } c ? Fmt.S((p - c).TotalSeconds) : "—");
        Row("**load: picked up → committed**", r => double.IsNaN(r.LoadSeconds) ? "—" : Fmt.S(r.LoadSeconds));
        Row("**Xeno: orders/s**", r => double.IsNaN(r.LoadSeconds) ? "—" : Fmt.N0(r.OrdersPerSecond));
        Row("Xeno: file lines/s", r => double.IsNaN(r.LoadSeconds) || r.OrdersFile is null ? "—" : Fmt.N0(r.OrdersFile.ObjectCount / r.LoadSeconds));
        Row("Xeno: orders/s from the server's `completedAt`", r => double.IsNaN(r.FromReadySeconds) ? "—" : Fmt.N0(r.Orders / r.FromReadySeconds));
        Row("raw COPY: rows / time", r => r.Copy is { } c ? $"{Fmt.N0(c.Rows)} / {Fmt.S(c.Elapsed.TotalSeconds)}" : r.CopyError ?? "—");
        Row("**raw COPY: orders/s**", r => r.Copy is { } c ? Fmt.N0(c.OrdersPerSecond) : "—");
        Row("**Xeno ÷ raw COPY**", r => r.Copy is { } c && !double.IsNaN(r.LoadSeconds) ? Fmt.Pct(r.OrdersPerSecond / c.OrdersPerSecond) : "—");
        Row("connect request answered", r => Fmt.S((r.Timeline.ConnectAnswered - r.Timeline.ConnectSent).TotalSeconds));
        foreach (var kind in new[] { "products", "customers", "orders", "abandonedCheckouts" })
            Row($"`{kind}` file loaded (since connect)", r => r.Timeline.Files.GetValueOrDefault(kind)?.Loaded is { } l ? Fmt.S((l - r.Timeline.ConnectSent).TotalSeconds) : "—");
        Row("aggregates built (since connect)", r => r.Timeline.AggregatesBuilt is { } a ? Fmt.S((a - r.Timeline.ConnectSent).TotalSeconds) : "—");
        Row("`aggregates_timezone` first set (since connect; also by Xeno's minutely job)", r => r.Timeline.AggregatesTimezoneSet is { } a ? Fmt.S((a - r.Timeline.ConnectSent).TotalSeconds) : "—");
        Row("refund details: refunds / time", r => r.Timeline.AggregatesBuilt is { } a
            ? r.Timeline.FinishedSeen is { } f ? $"{Fmt.N0(Math.Max(0, r.Timeline.RefundsPendingAtAggregates))} / {Fmt.S((f - a).TotalSeconds)}"
            : r.Timeline.DetailsCutOff is { } c ? $"{Fmt.N0(r.Timeline.RefundsPendingAtAggregates - r.Timeline.RefundsPendingAtCutOff)} of {Fmt.N0(r.Timeline.RefundsPendingAtAggregates)} in {Fmt.S((c - a).TotalSeconds)} (then parked)" : "—"
            : "—");
        Row("**whole sync (connect → finished)**", r => r.Timeline.FinishedSeen is { } f ? Fmt.S((f - r.Timeline.ConnectSent).TotalSeconds)
            : r.Timeline.DetailsCutOff is { } c && r.Timeline.AggregatesBuilt is { } a && r.Timeline.RefundsPendingAtAggregates > r.Timeline.RefundsPendingAtCutOff
                ? $"not finished; about {Fmt.S((a - r.Timeline.ConnectSent).TotalSeconds + (c - a).TotalSeconds * r.Timeline.RefundsPendingAtAggregates / (r.Timeline.RefundsPendingAtAggregates - r.Timeline.RefundsPendingAtCutOff))} at the pace seen"
                : "—");
        Row("sync status", r => r.Timeline.Status + (r.Timeline.Error is { } e && !r.Timeline.Succeeded ? $" ({e})" : ""));
        Row("CPU of other processes during the COPY / the sync", r => $"{(r.CopyLoad is { } c ? Fmt.Pct(c.Others) : "—")} / {Fmt.Pct(r.SyncLoad.Others)}");
        Row("**peak RSS of Xeno (VmHWM)**", r => Fmt.Mb(r.PeakRssMb));
        Row("highest sampled RSS while loading orders", r => Fmt.Mb(r.Timeline.MaxRssMbDuringOrders));
        if (results.Count > 0 && results[^1].Waits.Count > 0)
            lines.AddRange(["", $"During the sync of the {Label(results[^1].Orders)} shop (connect to the end of the watch):", "", .. results[^1].Waits]);
        ctx.Report.Section("1. Backfill throughput and peak memory", lines);

        foreach (var size in ctx.Options.BackfillSizes)
        {
            var r = results.FirstOrDefault(x => x.Orders == size);
            var name = $"Backfill ≥ 50% of the raw COPY rate ({Label(size)} orders)";
            if (r?.Copy is null || double.IsNaN(r.LoadSeconds))
                ctx.Report.Target(TargetResult.NotMeasured(name, r is null ? "the backfill failed" : r.Copy is null ? "the raw COPY failed" : "no load time"));
            else
            {
                var ratio = r.OrdersPerSecond / r.Copy.OrdersPerSecond;
                ctx.Report.Target(TargetResult.AtLeast(name, ratio, 0.5, v => $"{v * 100:0} points",
                    $"{Fmt.Pct(ratio)} ({Fmt.N0(r.OrdersPerSecond)} vs {Fmt.N0(r.Copy.OrdersPerSecond)} orders/s)"));
            }
        }
        var million = results.FirstOrDefault(x => x.Orders == 1_000_000);
        const string rss = "Peak RSS < 400 MB while backfilling 1M orders";
        ctx.Report.Target(million is null
            ? TargetResult.NotMeasured(rss, ctx.Options.Quick ? "quick run (no 1M shop)" : "the 1M backfill failed")
            : TargetResult.AtMost(rss, million.PeakRssMb, 400, Fmt.Mb));
    }
}
