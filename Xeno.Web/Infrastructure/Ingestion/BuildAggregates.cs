using Hangfire;
using Microsoft.EntityFrameworkCore;
using Npgsql;
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
public sealed class BuildAggregates(IServiceScopeFactory scopes, DatabaseConnections connections, ILogger<BuildAggregates> logger)
{
    public const string RecurringJobId = "build-aggregates";

    /// <summary>Key of the advisory lock one run holds (two-key form, apart from the webhook inbox's locks).</summary>
    private const int LockSpace = 0x4147_4700;

    [Queue("default")]
    public async Task RunAsync(CancellationToken ct)
    {
        // One run at a time; a run that finds another under way leaves at once, and the next minute's looks again.
        // Hangfire's DisableConcurrentExecution held a worker for up to ten minutes waiting, and its lock outlived a killed
        // worker or a database restart by ten more: after such a fault, one run queued a minute filled every worker with
        // waits and no sync ran. A session's advisory lock ends with the session (its own connection, not pooled).
        await using var guard = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connections.App)
        {
            Pooling = false, ApplicationName = "xeno-build-aggregates",
        }.ConnectionString);
        await guard.OpenAsync(ct);
        await using (var take = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockSpace}, 0)", guard))
            if (await take.ExecuteScalarAsync(ct) is not true)
            {
                logger.LogDebug("Aggregates are being built by another worker");
                return;
            }
        await BuildAsync(ct);
    }

    private async Task BuildAsync(CancellationToken ct)
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
            // A store being backfilled gets its aggregates from its sync, once every bulk file is in: built now they
            // would cost a pass over a half-loaded history and be stale again at once.
            if (await db.SyncRuns.AnyAsync(r => r.Mode == "full" && (r.Status == "queued" || r.Status == "running"), ct)) continue;
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
