using Npgsql;

namespace Xeno.Bench;

/// <summary>
/// Evidence of where time goes inside PostgreSQL: every 100 ms, what each of Xeno's sessions in a statement is doing
/// (<c>pg_stat_activity</c>: running on the CPU, or waiting, and on what), counted per wait event and statement.
/// Read as the superuser, so every session is visible.
/// </summary>
internal sealed class WaitSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Dictionary<string, int> _events = [];
    private readonly Dictionary<(string Event, string Query), int> _statements = [];
    private int _samples;
    private long _activeSessions, _idleInTransaction;

    private WaitSampler(string superuser)
    {
        _loop = Task.Run(() => LoopAsync(superuser));
    }

    public static WaitSampler Start(BenchEnvironment env) => new(env.SuperuserConnectionString);

    private async Task LoopAsync(string superuser)
    {
        try
        {
            await using var conn = new NpgsqlConnection(superuser);
            await conn.OpenAsync(_stop.Token);
            while (!_stop.IsCancellationRequested)
            {
                await using (var cmd = new NpgsqlCommand("""
                    SELECT state, coalesce(wait_event_type || ':' || wait_event, 'on CPU'), left(regexp_replace(query, '\s+', ' ', 'g'), 90)
                    FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
                      AND usename <> 'postgres'
                    """, conn))
                await using (var r = await cmd.ExecuteReaderAsync(_stop.Token))
                {
                    _samples++;
                    while (await r.ReadAsync(_stop.Token))
                    {
                        if (r.GetString(0) != "active") { _idleInTransaction++; continue; }
                        _activeSessions++;
                        var ev = r.GetString(1);
                        _events[ev] = _events.GetValueOrDefault(ev) + 1;
                        var key = (ev, r.GetString(2));
                        _statements[key] = _statements.GetValueOrDefault(key) + 1;
                    }
                }
                await Task.Delay(100, _stop.Token);
            }
        }
        catch (OperationCanceledException) { }
        catch (NpgsqlException) { }
    }

    public async Task<List<string>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        if (_samples == 0) return [];
        var lines = new List<string>
        {
            $"PostgreSQL, sampled every 100 ms ({_samples} samples): on average {(double)_activeSessions / _samples:0.0} of Xeno's sessions were in a statement " +
            $"and {(double)_idleInTransaction / _samples:0.0} idle inside a transaction (waiting for Xeno). What the sessions in a statement were doing:",
            "",
            "| running or waiting on | share of session samples | the statements most often seen so |",
            "|---|---|---|",
        };
        foreach (var (ev, count) in _events.OrderByDescending(e => e.Value).Take(6))
        {
            var top = _statements.Where(s => s.Key.Event == ev).OrderByDescending(s => s.Value).Take(2)
                .Select(s => $"`{s.Key.Query.Replace("|", "\\|").Replace("`", "'")}…` ({Fmt.Pct((double)s.Value / count)})");
            lines.Add($"| {ev} | {Fmt.Pct((double)count / Math.Max(1, _activeSessions))} | {string.Join("<br>", top)} |");
        }
        return lines;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _stop.Dispose();
    }
}
