using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Auth;

/// <summary>
/// Failed logins are counted per account and per client in a fixed window kept in PostgreSQL, so that
/// every web process shares the count. Past the limit, further attempts get 429 until the window ends,
/// whether or not the password would have been right: an attacker learns nothing from them.
/// </summary>
public sealed class LoginThrottling(XenoDb db, TimeProvider clock, IConfiguration config)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    public const int AccountLimit = 5;
    public const int ClientLimit = 20;

    /// <returns>When the caller may try again, or null when it may try now.</returns>
    public async Task<TimeSpan?> RetryAfterAsync(string email, string client)
    {
        var now = clock.GetUtcNow();
        var keys = new[] { AccountKey(email), ClientKey(client) };
        var rows = await db.LoginThrottles.AsNoTracking().Where(t => keys.Contains(t.Key)).ToListAsync();
        TimeSpan? wait = null;
        foreach (var row in rows)
        {
            var limit = row.Key.StartsWith("account:") ? AccountLimit : ClientLimit;
            var ends = row.WindowStart + Window;
            if (row.Failures >= limit && ends > now)
                wait = wait is { } w && w > ends - now ? w : ends - now;
        }
        return wait;
    }

    public async Task RecordFailureAsync(string email, string client)
    {
        var now = clock.GetUtcNow();
        foreach (var key in new[] { AccountKey(email), ClientKey(client) })
        {
            // One statement per key: concurrent failures add up instead of overwriting each other.
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO login_throttles (key, window_start, failures) VALUES ({key}, {now}, 1)
                ON CONFLICT (key) DO UPDATE SET
                  failures = CASE WHEN login_throttles.window_start + {Window} <= {now} THEN 1 ELSE login_throttles.failures + 1 END,
                  window_start = CASE WHEN login_throttles.window_start + {Window} <= {now} THEN {now} ELSE login_throttles.window_start END
                """);
        }
    }

    /// <summary>Registrations per client in the window (<c>Auth__RegistrationsPerClient</c>, 10): each costs a PBKDF2 hash,
    /// so they are counted whatever their outcome.</summary>
    private int RegistrationLimit => config.GetValue("Auth:RegistrationsPerClient", 10);

    /// <summary>Counts a registration attempt of <paramref name="client"/>; returns when it may try again if it is over the limit.</summary>
    public async Task<TimeSpan?> RegistrationAsync(string client)
    {
        var now = clock.GetUtcNow();
        await db.Database.OpenConnectionAsync();
        try
        {
            await using var command = new Npgsql.NpgsqlCommand("""
                INSERT INTO login_throttles (key, window_start, failures) VALUES (@key, @now, 1)
                ON CONFLICT (key) DO UPDATE SET
                  failures = CASE WHEN login_throttles.window_start + @window <= @now THEN 1 ELSE login_throttles.failures + 1 END,
                  window_start = CASE WHEN login_throttles.window_start + @window <= @now THEN @now ELSE login_throttles.window_start END
                RETURNING failures, window_start
                """, (Npgsql.NpgsqlConnection)db.Database.GetDbConnection());
            command.Parameters.AddWithValue("key", "register:" + client);
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("window", Window);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (attempts, windowStart) = (reader.GetInt32(0), reader.GetFieldValue<DateTimeOffset>(1));
            return attempts > RegistrationLimit ? windowStart + Window - now : null;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    public Task ClearAccountAsync(string email) =>
        db.LoginThrottles.Where(t => t.Key == AccountKey(email)).ExecuteDeleteAsync();

    private static string AccountKey(string email) => "account:" + email;
    private static string ClientKey(string client) => "client:" + client;
}
