using System.Diagnostics;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;

namespace Xeno.Bench;

/// <summary>
/// (2) Time to first dashboard: a new store of 100k orders on Shopify's Standard limit (bucket 1,000 points, 100/s) with
/// a 60 s bulk delay, from the connect request until <c>/metrics/summary</c> over the store's whole history shows every
/// counted order. Then, bounded, until the sync has finished (the refunds' details come after the dashboard, by the
/// rate limit).
/// </summary>
internal static class FirstDashboard
{
    public static async Task RunAsync(BenchContext ctx, CancellationToken ct)
    {
        var env = ctx.Env;
        var orders = ctx.Options.DashboardOrders;
        var label = Backfill.Label(orders);
        Log.Info($"first dashboard: generating a {label} shop");
        var shop = ShopGenerator.Generate(202, orders, new ShopGeneratorOptions
        {
            Domain = $"bench-standard-{label.ToLowerInvariant()}.myshopify.com", Name = $"Standard {label}", Days = 730,
        });
        shop.RateLimit.Configure(1_000, 100);
        shop.Bulk.ProcessingDelay = ctx.Options.DashboardBulkDelay;

        var today = LocalToday(shop);
        var from = today.AddDays(-730);
        var expected = CountedOrders(shop, from, today);
        var path = $"/metrics/summary?from={from:yyyy-MM-dd}&to={today:yyyy-MM-dd}";

        env.Xeno.Mark($"first dashboard: connecting {shop.MyshopifyDomain}");
        var clock = Stopwatch.StartNew();
        var store = await env.ConnectAsync("dashboard", shop, ct);
        var connected = clock.Elapsed;
        Log.Info($"first dashboard: connected; waiting for {Fmt.N0(expected)} orders in the summary from {from:yyyy-MM-dd} to {today:yyyy-MM-dd}");
        TimeSpan? dashboard = null, firstOrders = null;
        var seen = 0;
        var dashboardBound = TimeSpan.FromMinutes(ctx.Options.Quick ? 3 : 12);
        while (clock.Elapsed < dashboardBound)
        {
            var summary = await env.GetJsonAsync($"/api/v1/stores/{store.Id}{path}", ct);
            seen = summary["orders"]!.GetValue<int>();
            if (seen > 0) firstOrders ??= clock.Elapsed;
            if (seen >= expected)
            {
                dashboard = clock.Elapsed;
                break;
            }
            await Task.Delay(1000, ct);
        }
        Log.Info(dashboard is { } d ? $"first dashboard after {d.TotalSeconds:F1} s" : $"no full dashboard after {dashboardBound.TotalMinutes:0} min ({seen} of {expected} orders)");

        // The sync goes on with the refunds' details, at the rate limit's pace: wait for its end, bounded.
        var pendingAtDashboard = await env.ScalarAsync<long>(store.Id, "SELECT count(*) FROM refunds WHERE details_pending", ct);
        var waitFrom = clock.Elapsed;
        var status = await env.WaitForSyncAsync(store.Id, ctx.Options.DashboardSyncWait, ct);
        var finished = status is "succeeded" or "failed" ? clock.Elapsed : (TimeSpan?)null;
        var pending = await env.ScalarAsync<long>(store.Id, "SELECT count(*) FROM refunds WHERE details_pending", ct);
        var refunds = await env.ScalarAsync<long>(store.Id, "SELECT count(*) FROM refunds", ct);
        var detailsRate = (pendingAtDashboard - pending) / (clock.Elapsed - waitFrom).TotalSeconds;
        if (status == "failed")
        {
            var runId = await env.ScalarAsync<Guid>(store.Id, "SELECT id FROM sync_runs ORDER BY queued_at DESC LIMIT 1", ct);
            ctx.Report.Note($"first dashboard: the sync failed{(Backfill.XenoLogExcerpt(env, runId) is { } why ? $"; Xeno's log: {why}" : "")}. " +
                            "The refunds' details are then not fetched until the next sync.");
        }
        var projected = finished is null && detailsRate > 0 ? clock.Elapsed + TimeSpan.FromSeconds(pending / detailsRate) : (TimeSpan?)null;

        var lines = new List<string>
        {
            $"A new shop of {Fmt.N0(orders)} orders over 730 days, on the Standard limit (bucket 1,000 points restoring 100/s) with the",
            $"Shopify server's bulk delay at {ctx.Options.DashboardBulkDelay.TotalSeconds:0} s (every bulk operation takes at least that long). **First dashboard** = from the",
            $"`POST /api/v1/stores` request until `GET …{path}` (polled every second) shows all {Fmt.N0(expected)} counted",
            "orders (not test, processed in the range by the shop's zone; computed from the shop model).",
            "",
            "| | |",
            "|---|---|",
            $"| connect request answered | {Fmt.S(connected.TotalSeconds)} |",
            $"| first orders on the dashboard | {(firstOrders is { } f ? Fmt.S(f.TotalSeconds) : "—")} |",
            $"| **first dashboard (every order counted)** | {(dashboard is { } x ? $"**{Fmt.S(x.TotalSeconds)}** ({Fmt.Duration(x)})" : $"not within {dashboardBound.TotalMinutes:0} min ({Fmt.N0(seen)} of {Fmt.N0(expected)} orders)")} |",
            $"| refunds without details when the dashboard was complete | {Fmt.N0(pendingAtDashboard)} of {Fmt.N0(refunds)} |",
            $"| refund details fetched per second afterwards | {Fmt.N1(detailsRate)} |",
            $"| sync finished (refund details fetched at the rate limit) | {(finished is { } y ? $"{Fmt.S(y.TotalSeconds)} ({Fmt.Duration(y)}), {status}" : $"not within the bound of {ctx.Options.DashboardSyncWait.TotalMinutes:0} min after the dashboard ({Fmt.N0(pending)} refunds still without details; at that pace it would finish after about {(projected is { } p ? Fmt.Duration(p) : "?")})")} |",
        };
        ctx.Report.Section("2. Time to first dashboard", lines);
        const string target = "First dashboard of a 100k-order store < 5 min (Standard limit, bulk delay 60 s)";
        ctx.Report.Target(ctx.Options.Quick
            ? TargetResult.NotMeasured(target, $"quick run: {label} orders, bulk delay {ctx.Options.DashboardBulkDelay.TotalSeconds:0} s → {(dashboard is { } q ? Fmt.S(q.TotalSeconds) : "none")}")
            : dashboard is { } t
                ? TargetResult.AtMost(target, t.TotalSeconds, 300, Fmt.S)
                : new TargetResult(target, $"> {dashboardBound.TotalMinutes:0} min", false, $"not there after {dashboardBound.TotalMinutes:0} min"));
    }

    public static DateOnly LocalToday(Shop shop) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, shop.TimeZone).DateTime);

    /// <summary>METRICS.md's counted orders dated in the range: not test, not deleted, processed on a local date in it.</summary>
    public static int CountedOrders(Shop shop, DateOnly from, DateOnly to)
    {
        var deleted = shop.DeletedOrderIds.ToHashSet();
        return shop.Orders.Count(o =>
        {
            if (o.Test || deleted.Contains(o.Id)) return false;
            var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(o.ProcessedAt, shop.TimeZone).DateTime);
            return day >= from && day <= to;
        });
    }
}
