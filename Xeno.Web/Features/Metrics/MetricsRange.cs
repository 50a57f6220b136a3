using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

/// <summary>The store a metric is asked of, and the inclusive range of the shop's local dates.</summary>
public sealed record MetricsRange(Guid StoreId, string Currency, string TimeZone, DateOnly From, DateOnly To)
{
    public const int MaxDays = 731;

    /// <summary>The earliest date a range may start on: long before any Shopify shop's first order, and a bound
    /// that keeps every date a plain one for PostgreSQL (the extremes of DateOnly would reach it as ±infinity).</summary>
    public static readonly DateOnly Earliest = new(2000, 1, 1);

    /// <summary>The latest date a range may end on: a year after the shop's today.</summary>
    public static DateOnly Latest(DateOnly today) => today.AddYears(1);

    public static string WindowMessage(DateOnly today) =>
        $"Dates must lie between {Earliest:yyyy-MM-dd} and {Latest(today):yyyy-MM-dd}.";

    public static bool InWindow(DateOnly date, DateOnly today) => date >= Earliest && date <= Latest(today);

    public int Days => To.DayNumber - From.DayNumber + 1;

    /// <summary>The store's myshopify domain, which names the files a CSV answer is saved as.</summary>
    public string ShopDomain { get; init; } = "";

    /// <summary>Reads <c>from</c>/<c>to</c> (default: the 30 days ending today in the shop's zone); null and
    /// an error when they are malformed, reversed, outside the window or span more than 731 days.</summary>
    public static (MetricsRange? Range, IResult? Error) Parse(string? fromText, string? toText, Store store, DateOnly today)
    {
        if (!TryDate(toText, today, out var to)) return (null, Bad("to must be a date as yyyy-MM-dd."));
        if (!InWindow(to, today)) return (null, Bad(WindowMessage(today)));
        if (!TryDate(fromText, to.AddDays(-29), out var from)) return (null, Bad("from must be a date as yyyy-MM-dd."));
        if (!InWindow(from, today)) return (null, Bad(WindowMessage(today)));
        if (from > to) return (null, Bad("from must not be after to."));
        var range = For(store, from, to);
        if (range.Days > MaxDays) return (null, Bad($"A range may span at most {MaxDays} days."));
        return (range, null);
    }

    public static MetricsRange For(Store store, DateOnly from, DateOnly to) =>
        new(store.Id, store.Currency, store.Timezone, from, to) { ShopDomain = store.ShopDomain };

    public static DateOnly Today(string timeZone, TimeProvider clock)
    {
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var z) ? z : TimeZoneInfo.Utc;
        return DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), zone).DateTime);
    }

    public static bool TryDate(string? text, DateOnly fallback, out DateOnly date)
    {
        if (string.IsNullOrEmpty(text)) { date = fallback; return true; }
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    public static bool TryLimit(string? text, int fallback, out int limit)
    {
        if (string.IsNullOrEmpty(text)) { limit = fallback; return true; }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= 100;
    }

    public static IResult Bad(string message) => TypedResults.Problem(title: message, statusCode: StatusCodes.Status400BadRequest);

    /// <summary>Parameters every metric query takes: the tenant, the zone, the range's dates.</summary>
    public void AddParameters(NpgsqlCommand command)
    {
        command.Parameters.AddWithValue("tenant", StoreId);
        command.Parameters.AddWithValue("tz", TimeZone);
        command.Parameters.AddWithValue("from", From);
        command.Parameters.AddWithValue("to", To);
    }
}

public static class Money
{
    /// <summary>Summed exactly, rounded only when shown: money to 2 decimals, rates to 4, half away from zero.</summary>
    public static decimal Round(decimal amount) => decimal.Round(amount, 2, MidpointRounding.AwayFromZero);
    public static decimal Rate(decimal numerator, decimal denominator) =>
        denominator == 0 ? 0 : decimal.Round(numerator / denominator, 4, MidpointRounding.AwayFromZero);
}

public static class MetricsSql
{
    // The local range as instants: filters on processed_at/created_at stay index ranges (tenant first).
    public const string Bounds = """
        bounds AS (SELECT (@from::date)::timestamp AT TIME ZONE @tz AS lo, (@to::date + 1)::timestamp AT TIME ZONE @tz AS hi)
        """;

    /// <summary>Runs a metric query on the scope's connection (tenant set, so RLS applies as well).</summary>
    public static async Task<List<T>> QueryAsync<T>(XenoDb db, MetricsRange range, string sql, Func<NpgsqlDataReader, T> read,
        Action<NpgsqlCommand>? parameters = null, CancellationToken ct = default)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand(sql, (NpgsqlConnection)db.Database.GetDbConnection());
            range.AddParameters(command);
            parameters?.Invoke(command);
            await using var reader = await command.ExecuteReaderAsync(ct);
            var rows = new List<T>();
            while (await reader.ReadAsync(ct)) rows.Add(read(reader));
            return rows;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
