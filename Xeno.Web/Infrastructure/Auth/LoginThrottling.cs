using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Auth;

/// <summary>
/// Failed logins are counted per account and per client in a fixed window kept in PostgreSQL, so that
/// every web process shares the count. Past the limit, further attempts get 429 until the window ends,
/// whether or not the password would have been right: an attacker learns nothing from them.
/// </summary>
public sealed class LoginThrottling(XenoDb db, TimeProvider clock)
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

    public Task ClearAccountAsync(string email) =>
        db.LoginThrottles.Where(t => t.Key == AccountKey(email)).ExecuteDeleteAsync();

    private static string AccountKey(string email) => "account:" + email;
    private static string ClientKey(string client) => "client:" + client;
}
