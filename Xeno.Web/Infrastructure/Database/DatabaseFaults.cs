using Npgsql;

namespace Xeno.Web.Infrastructure.Database;

/// <summary>What tells a database that went away (a restart, a failover, a lost connection) from an error of the work
/// itself: the work is then not at fault, and is resumed or retried without counting against it.</summary>
public static class DatabaseFaults
{
    public static bool IsOutage(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is NpgsqlException { IsTransient: true }
                or PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow })
                return true;
        return false;
    }
}
