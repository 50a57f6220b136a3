using System.Globalization;

namespace Xeno.Bench;

/// <summary>What one run measures and for how long: the full run by default, <c>--quick</c> for a smoke run.</summary>
internal sealed record BenchOptions
{
    public bool Quick { get; init; }
    /// <summary>The published Xeno.Web folder (<c>dotnet publish</c> output holding Xeno.Web.dll).</summary>
    public required string XenoDir { get; init; }
    /// <summary>Where the report goes (bench/results).</summary>
    public required string ResultsDir { get; init; }
    /// <summary>Phases to run (all by default): backfill, dashboard, metrics, freshness, intake.</summary>
    public IReadOnlySet<string> Phases { get; init; } = AllPhases;
    /// <summary>Keep the PostgreSQL cluster (stopped) and Xeno's log in the work folder, to investigate afterwards.</summary>
    public bool Keep { get; init; }

    public static readonly IReadOnlySet<string> AllPhases = new HashSet<string> { "backfill", "dashboard", "metrics", "freshness", "intake" };

    // (1) Backfill: shop sizes, in orders.
    public int[] BackfillSizes => Quick ? [10_000] : [10_000, 100_000, 1_000_000];
    // (2) First dashboard: the new store's orders and Shopify's bulk delay.
    public int DashboardOrders => Quick ? 10_000 : 100_000;
    public TimeSpan DashboardBulkDelay => Quick ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(60);
    /// <summary>How long to wait for the sync to finish once the dashboard is there (refund details are rate-bound).</summary>
    public TimeSpan DashboardSyncWait => Quick ? TimeSpan.FromMinutes(3) : TimeSpan.FromMinutes(12);
    // (3) Metrics: the small and large stores (from the backfill), the other tenants, requests per endpoint and range.
    public int MetricsSmall => 10_000;
    public int? MetricsLarge => Quick ? null : 1_000_000;
    public int OtherTenants => 10;
    public int OtherTenantOrders => Quick ? 1_000 : 10_000;
    public int MetricsWarmup => Quick ? 5 : 10;
    public int MetricsRequests => Quick ? 30 : 100;
    // (4) Webhook intake: closed-loop concurrency levels and the time at each.
    public int[] IntakeConcurrency => Quick ? [1, 8, 32] : [1, 2, 4, 8, 16, 32, 64];
    public TimeSpan IntakeDuration => Quick ? TimeSpan.FromSeconds(4) : TimeSpan.FromSeconds(10);
    /// <summary>The longest wait, after a level, for the deliveries it stored to be processed.</summary>
    public TimeSpan IntakeDrainWait => Quick ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(60);
    // (5) Freshness: an open loop at this rate for this long.
    public double FreshnessRate => 200;
    public TimeSpan FreshnessDuration => Quick ? TimeSpan.FromSeconds(15) : TimeSpan.FromSeconds(60);

    public static BenchOptions Parse(string[] args)
    {
        bool quick = false, keep = false;
        string? xeno = null, results = null;
        IReadOnlySet<string> phases = AllPhases;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--keep": keep = true; break;
                case "--xeno": xeno = args[++i]; break;
                case "--results": results = args[++i]; break;
                case "--only":
                    phases = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
                    if (phases.Except(AllPhases).FirstOrDefault() is { } unknown)
                        throw new ArgumentException($"Unknown phase '{unknown}'; phases are {string.Join(", ", AllPhases)}.");
                    break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: Xeno.Bench --xeno <published Xeno.Web> --results <dir> [--quick] [--only phase,…] [--keep]");
            }
        }
        if (xeno is null || !File.Exists(Path.Combine(xeno, "Xeno.Web.dll")))
            throw new ArgumentException("--xeno must name a folder holding a published Xeno.Web.dll (bench/run makes one).");
        return new BenchOptions { Quick = quick, XenoDir = Path.GetFullPath(xeno), ResultsDir = Path.GetFullPath(results ?? "bench/results"), Phases = phases, Keep = keep };
    }
}

internal static class Log
{
    private static readonly DateTime Start = DateTime.UtcNow;

    public static void Info(string message) =>
        Console.WriteLine($"[{(DateTime.UtcNow - Start).TotalSeconds,7:F1}s] {message}");
}

internal static class Fmt
{
    public static readonly CultureInfo C = CultureInfo.InvariantCulture;
    public static string N0(double v) => v.ToString("#,##0", C);
    public static string N1(double v) => v.ToString("#,##0.0", C);
    public static string N2(double v) => v.ToString("#,##0.00", C);
    public static string Ms(double v) => v >= 100 ? v.ToString("#,##0", C) + " ms" : v.ToString("0.0", C) + " ms";
    public static string S(double seconds) => seconds >= 100 ? seconds.ToString("#,##0", C) + " s" : seconds.ToString("0.0", C) + " s";
    public static string Mb(double mb) => mb.ToString("#,##0", C) + " MB";
    public static string Pct(double fraction) => (fraction * 100).ToString("0", C) + "%";
    public static string Duration(TimeSpan t) => t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes} min {t.Seconds:00} s" : S(t.TotalSeconds);
}

internal static class Stats
{
    /// <summary>The nearest-rank percentile (q from 0 to 1) of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(q * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
