using Hangfire;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;
using Xeno.Web.Infrastructure.Jobs;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Sync;

/// <summary>The scheduled reconciliation: every active store gets an incremental sync on
/// <c>Ingestion__Cron</c>, so that data a webhook missed still arrives.</summary>
public sealed class ScheduleIncrementalSyncs(IServiceScopeFactory scopes)
{
    public const string RecurringJobId = "incremental-sync-all-stores";

    [Queue("default")]
    public async Task RunAsync(CancellationToken ct)
    {
        List<Guid> storeIds;
        await using (var scope = scopes.CreateAsyncScope())
        {
            storeIds = await scope.ServiceProvider.GetRequiredService<XenoDb>().Stores
                .Where(s => s.Status == StoreStatus.Active && s.ConnectionError == null).Select(s => s.Id).ToListAsync(ct);
        }
        foreach (var storeId in storeIds)
        {
            await using var scope = scopes.CreateAsyncScope();
            var tenant = scope.ServiceProvider.GetRequiredService<TenantContext>();
            tenant.Set(storeId);
            await QueueSync.ExecuteAsync(scope.ServiceProvider.GetRequiredService<XenoDb>(), tenant,
                scope.ServiceProvider.GetRequiredService<IBackgroundJobClient>(), scope.ServiceProvider.GetRequiredService<TimeProvider>(), "incremental", ct);
        }
    }

    /// <summary>Registers (or updates) the recurring jobs once the database is ready: the syncs, the webhook inbox sweep,
    /// and the aggregates of stores that have none (also once now).</summary>
    public static void Register(WebApplication app)
    {
        if (!XenoRoles.RunsWorkers(app.Configuration)) return;
        var cron = app.Configuration["Ingestion:Cron"] ?? "0 */6 * * *";
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<ScheduleIncrementalSyncs>(RecurringJobId, job => job.RunAsync(CancellationToken.None), cron);
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<Webhooks.ProcessWebhook>("webhook-inbox-sweep", job => job.SweepAsync(CancellationToken.None), Cron.Minutely());
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<BuildAggregates>(BuildAggregates.RecurringJobId, job => job.RunAsync(CancellationToken.None), Cron.Minutely());
        app.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<BuildAggregates>(job => job.RunAsync(CancellationToken.None));
    }
}
