using Hangfire;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Infrastructure.Ingestion;

/// <summary>
/// Builds the aggregates of every store that has none yet, or whose time zone changed since they were built (their
/// days are the shop's local days): once when a worker starts and every minute after. A store that receives data
/// gets them at its first write anyway (<see cref="ShopAggregates.RefreshAsync"/>); this covers stores that are
/// only read, such as every store of a database that predates the aggregates. It also moves every store's ranked
/// windows on to its new local day soon after midnight, so that no dashboard has to.
/// </summary>
public sealed class BuildAggregates(IServiceScopeFactory scopes, ILogger<BuildAggregates> logger)
{
    public const string RecurringJobId = "build-aggregates";

    [Queue("default")]
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    public async Task RunAsync(CancellationToken ct)
    {
        List<Guid> stale, newDay;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var stores = scope.ServiceProvider.GetRequiredService<XenoDb>();
            stale = await stores.Stores.Where(s => s.AggregatesTimezone == null || s.AggregatesTimezone != s.Timezone).Select(s => s.Id).ToListAsync(ct);
            newDay = await stores.Database.SqlQueryRaw<Guid>(
                "SELECT id AS \"Value\" FROM stores WHERE aggregates_timezone = timezone AND windows_day IS DISTINCT FROM (now() AT TIME ZONE timezone)::date")
                .ToListAsync(ct);
        }
        foreach (var storeId in stale)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(storeId);
            var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
            await db.WriteAsync(storeId, writer =>
            {
                writer.Affected.Everything = true;
                return Task.CompletedTask;
            }, ct);
            logger.LogInformation("Built the aggregates of store {StoreId}", storeId);
        }
        foreach (var storeId in newDay)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(storeId);
            var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
            await db.Database.OpenConnectionAsync(ct);
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await ShopAggregates.RollWindowsAsync((Npgsql.NpgsqlConnection)db.Database.GetDbConnection(),
                (Npgsql.NpgsqlTransaction)Microsoft.EntityFrameworkCore.Storage.DbContextTransactionExtensions.GetDbTransaction(transaction), storeId, ct);
            await transaction.CommitAsync(ct);
        }
    }
}
