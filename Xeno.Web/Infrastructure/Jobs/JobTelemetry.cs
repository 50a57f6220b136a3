using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hangfire.Common;
using Hangfire.Server;

namespace Xeno.Web.Infrastructure.Jobs;

/// <summary>
/// A span and a duration measurement per Hangfire job run (no instrumentation package for Hangfire is served), so that
/// a sync's SQL and Shopify calls show as children of the job that made them. The span carries the job's id, type
/// and queue, never its arguments.
/// </summary>
public sealed class JobTelemetry : JobFilterAttribute, IServerFilter
{
    public const string SourceName = "Xeno.Jobs";
    private static readonly ActivitySource Source = new(SourceName);
    private static readonly Meter Meter = new(SourceName);
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("xeno.job.duration", "s", "How long each Hangfire job run took");
    private const string ActivityKey = "xeno.activity";
    private const string StartKey = "xeno.started";

    public void OnPerforming(PerformingContext context)
    {
        var job = context.BackgroundJob.Job;
        var activity = Source.StartActivity($"job {job.Type.Name}.{job.Method.Name}", ActivityKind.Internal);
        activity?.SetTag("hangfire.job.id", context.BackgroundJob.Id);
        activity?.SetTag("hangfire.job.type", job.Type.Name);
        activity?.SetTag("hangfire.job.method", job.Method.Name);
        activity?.SetTag("hangfire.queue", job.Queue);
        context.Items[ActivityKey] = activity;
        context.Items[StartKey] = Stopwatch.GetTimestamp();
    }

    public void OnPerformed(PerformedContext context)
    {
        var job = context.BackgroundJob.Job;
        var outcome = context.Exception is null ? "succeeded" : context.Canceled ? "canceled" : "failed";
        if (context.Items.TryGetValue(StartKey, out var started) && started is long start)
            Duration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds,
                new("hangfire.job.type", job.Type.Name), new("hangfire.job.method", job.Method.Name), new("outcome", outcome));
        if (context.Items.TryGetValue(ActivityKey, out var value) && value is Activity activity)
        {
            if (context.Exception is { } e && !context.ExceptionHandled)
                activity.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            activity.SetTag("outcome", outcome);
            activity.Dispose();
        }
    }
}
