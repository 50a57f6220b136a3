using System.Text;
using Npgsql;

namespace Xeno.Web.Tests.BadInput;

/// <summary>
/// What a rejected request must leave as it was: for every table of Xeno's schema, its row count and its newest
/// <c>*updated_at</c>, read as the database owner. Tables without a tenant are read whole; tenant tables (row-level
/// security holds the owner too) are read for each of the given stores, which is every store a test's requests can reach.
/// Two tables are left out on purpose: <c>login_throttles</c>, whose counters a failed attempt is meant to move, and
/// <c>webhook_pending</c>, the marks by which the sweeper wakes workers for retries of earlier failed deliveries.
/// Hangfire's own schema is not Xeno's data and churns with every heartbeat.
/// </summary>
internal sealed class DatabaseFingerprint
{
    private static readonly HashSet<string> Excluded = ["login_throttles", "webhook_pending"];

    private sealed record Table(string Name, bool HasTenant, string[] UpdatedColumns);

    private static List<Table>? _tables;
    private static readonly SemaphoreSlim TablesLock = new(1, 1);

    private readonly SortedDictionary<string, string> _values;

    private DatabaseFingerprint(SortedDictionary<string, string> values) => _values = values;

    public static async Task<DatabaseFingerprint> TakeAsync(string ownerConnectionString, IEnumerable<Guid> tenants, params string[] leaveOut)
    {
        await using var conn = new NpgsqlConnection(ownerConnectionString);
        await conn.OpenAsync();
        var tables = (await TablesAsync(conn)).Where(t => !leaveOut.Contains(t.Name)).ToList();
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);

        await ReadAsync(conn, tables.Where(t => !t.HasTenant).ToList(), "", values);
        foreach (var tenant in tenants.Distinct())
        {
            await using (var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", conn))
            {
                set.Parameters.AddWithValue("t", tenant.ToString());
                await set.ExecuteNonQueryAsync();
            }
            await ReadAsync(conn, tables.Where(t => t.HasTenant).ToList(), tenant.ToString()[..8] + ":", values);
            // The store's own row: its data version moves with every write of its data, its status with an uninstall.
            await using var store = new NpgsqlCommand("SELECT coalesce((SELECT data_version::text || '/' || status::text FROM stores WHERE id = @t), 'gone')", conn);
            store.Parameters.AddWithValue("t", tenant);
            values[tenant.ToString()[..8] + ":stores.row"] = (string)(await store.ExecuteScalarAsync())!;
        }
        return new DatabaseFingerprint(values);
    }

    private static async Task ReadAsync(NpgsqlConnection conn, List<Table> tables, string prefix, SortedDictionary<string, string> values)
    {
        if (tables.Count == 0) return;
        var sql = string.Join("\nUNION ALL\n", tables.Select(t =>
        {
            var newest = t.UpdatedColumns.Length == 0 ? "''" : "coalesce(greatest(" + string.Join(", ", t.UpdatedColumns.Select(c => $"max(\"{c}\")")) + ")::text, '')";
            return $"SELECT '{t.Name}', count(*)::text || ' ' || {newest} FROM \"{t.Name}\"";
        }));
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) values[prefix + reader.GetString(0)] = reader.GetString(1);
    }

    private static async Task<List<Table>> TablesAsync(NpgsqlConnection conn)
    {
        await TablesLock.WaitAsync();
        try
        {
            if (_tables is not null) return _tables;
            var columns = new List<(string Table, string Column)>();
            await using (var cmd = new NpgsqlCommand("""
                SELECT c.table_name, c.column_name
                FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
                WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
                ORDER BY 1, 2
                """, conn))
            await using (var reader = await cmd.ExecuteReaderAsync())
                while (await reader.ReadAsync()) columns.Add((reader.GetString(0), reader.GetString(1)));
            var tables = columns.GroupBy(c => c.Table)
                .Where(g => !Excluded.Contains(g.Key))
                .Select(g => new Table(g.Key, g.Any(c => c.Column == "tenant_id"),
                    g.Where(c => c.Column.EndsWith("updated_at", StringComparison.Ordinal)).Select(c => c.Column).ToArray()))
                .ToList();
            // Only tables the owner can read (it owns them all; this guards against a grant a later migration takes away).
            var readable = new List<Table>();
            foreach (var table in tables)
            {
                await using var probe = new NpgsqlCommand($"SELECT has_table_privilege(current_user, '\"{table.Name}\"', 'SELECT')", conn);
                if ((bool)(await probe.ExecuteScalarAsync())!) readable.Add(table);
            }
            if (readable.Count < 10) throw new InvalidOperationException("Xeno's tables were not found: " + string.Join(", ", readable.Select(t => t.Name)));
            return _tables = readable;
        }
        finally
        {
            TablesLock.Release();
        }
    }

    /// <summary>Waits until the stores' background work (a sync's last jobs, aggregates) has settled: two readings a
    /// second apart that agree. A property's cases start after it, so that a change they see is their own.</summary>
    public static async Task WaitQuietAsync(string ownerConnectionString, IReadOnlyCollection<Guid> tenants)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var last = await TakeAsync(ownerConnectionString, tenants);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
            var now = await TakeAsync(ownerConnectionString, tenants);
            if (now.DiffFrom(last).Length == 0) return;
            last = now;
        }
        throw new TimeoutException("The database did not settle: " + last);
    }

    public override string ToString() => string.Join("; ", _values.Select(v => $"{v.Key}: {v.Value}"));

    /// <summary>The tables whose count or newest update differ, as "table: before → after"; empty when none do.</summary>
    public string DiffFrom(DatabaseFingerprint before, params string[] ignoring)
    {
        var diff = new StringBuilder();
        foreach (var key in before._values.Keys.Union(_values.Keys).Order(StringComparer.Ordinal))
        {
            if (ignoring.Any(t => key == t || key.EndsWith(":" + t, StringComparison.Ordinal))) continue;
            var a = before._values.GetValueOrDefault(key, "(none)");
            var b = _values.GetValueOrDefault(key, "(none)");
            if (a != b) diff.Append($"{key}: {a} → {b}; ");
        }
        return diff.ToString();
    }

    /// <summary>Throws, naming what changed, unless the database is as it was.</summary>
    public void ShouldEqual(DatabaseFingerprint before, string what, params string[] ignoring)
    {
        var diff = DiffFrom(before, ignoring);
        if (diff.Length > 0) throw new PartialWriteException($"{what} changed the database: {diff}");
    }
}

public sealed class PartialWriteException(string message) : Exception(message);
