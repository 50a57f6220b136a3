using System.Diagnostics;

namespace Xeno.Bench;

internal sealed record BenchContext(BenchOptions Options, BenchEnvironment Env, Report Report);

/// <summary>
/// The benchmark of the issue, in one run: backfill throughput and memory, time to first dashboard, metrics latency,
/// webhook intake and freshness. Every phase is bounded in time and independent: a failure is reported and the run goes
/// on. Usage (bench/run builds and publishes first): <c>Xeno.Bench --xeno &lt;published Xeno.Web&gt; --results &lt;dir&gt; [--quick]</c>.
/// </summary>
internal static class BenchMain
{
    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try { options = BenchOptions.Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        var report = new Report(options);
        var total = Stopwatch.StartNew();
        BenchEnvironment? env = null;
        try
        {
            env = await BenchEnvironment.StartAsync(options);
        }
        catch (Exception e)
        {
            report.Failed("setup (PostgreSQL, Shopify server, Xeno)", e);
        }
        report.DescribeMachine(env);

        if (env is not null)
        {
            await using (env)
            {
                var ctx = new BenchContext(options, env, report);
                // The order of execution: freshness before intake, so that intake's backlog cannot delay freshness.
                await PhaseAsync(ctx, "backfill", "1. Backfill", TimeSpan.FromMinutes(options.Quick ? 8 : 75), Backfill.RunAsync);
                await PhaseAsync(ctx, "dashboard", "2. First dashboard", TimeSpan.FromMinutes(options.Quick ? 6 : 25), FirstDashboard.RunAsync);
                await PhaseAsync(ctx, "metrics", "3. Metrics latency", TimeSpan.FromMinutes(options.Quick ? 10 : 40), MetricsLatency.RunAsync);
                await PhaseAsync(ctx, "freshness", "5. Freshness", TimeSpan.FromMinutes(options.Quick ? 4 : 8), Freshness.RunAsync);
                await PhaseAsync(ctx, "intake", "4. Webhook intake", TimeSpan.FromMinutes(options.Quick ? 6 : 30), WebhookIntake.RunAsync);
                report.Note($"Xeno's log of this run (kept until the machine's temp folder is cleaned): {env.XenoLogPath}.");
                report.Duration = total.Elapsed;
                var path = report.Write();
                Log.Info($"results: {path} (and latest.md beside it); {Fmt.Duration(total.Elapsed)} in all");
            }
        }
        else
        {
            report.Duration = total.Elapsed;
            Log.Info($"results: {report.Write()}");
        }
        return 0;
    }

    private static async Task PhaseAsync(BenchContext ctx, string key, string name, TimeSpan bound, Func<BenchContext, CancellationToken, Task> run)
    {
        if (!ctx.Options.Phases.Contains(key)) return;
        Log.Info($"=== {name} (bounded at {bound.TotalMinutes:0} min)");
        var (quiet, share, waited) = await ctx.Env.Load.WaitForQuietAsync(TimeSpan.FromSeconds(ctx.Options.Quick ? 20 : 120), CancellationToken.None);
        var waitedText = quiet ? $"{waited.TotalSeconds:0} s" : $"{waited.TotalSeconds:0} s, in vain (others at {Fmt.Pct(share.Others)})";
        if (!quiet) Log.Info($"the machine is busy: {share}; going on");
        var clock = Stopwatch.StartNew();
        var before = ctx.Env.Load.Take();
        using var cts = new CancellationTokenSource(bound);
        try
        {
            await ctx.Env.EnsureXenoAsync(ctx.Report, name);
            await run(ctx, cts.Token);
        }
        catch (Exception e)
        {
            ctx.Report.Failed(name, e);
        }
        var during = MachineLoad.Between(before, ctx.Env.Load.Take());
        ctx.Report.Load(name, waitedText, during);
        Log.Info($"=== {name} done in {Fmt.Duration(clock.Elapsed)}; {during}");
    }
}
