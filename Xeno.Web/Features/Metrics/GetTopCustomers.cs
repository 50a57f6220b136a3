using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetTopCustomers
{
    public sealed record Item(string CustomerId, string? Name, string? Email, int Orders, decimal NetSales)
    {
        /// <summary>With <c>compare</c> only: the customer's net sales over the comparison range (0 without any).</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public decimal? ComparisonNetSales { get; init; }
    }
    public sealed record Response(IReadOnlyList<Item> Items);

    // METRICS.md "Top customers": (gross − discounts) of their orders dated in the range, minus returns of refunds
    // dated in the range on their orders; customers with an order in the range; net desc, id asc. Read from the
    // per-customer days kept as the data lands (ShopAggregates), so the range's rows are all that is read.
    private const string Sql = """
        WITH s AS (
          SELECT customer_id, sum(orders) AS orders, sum(sales) - sum(returns) AS net
          FROM customer_daily WHERE tenant_id = @tenant AND day BETWEEN @from AND @to
          GROUP BY customer_id HAVING sum(orders) > 0
          ORDER BY net DESC, customer_id
          LIMIT @limit)
        SELECT s.customer_id, c.first_name, c.last_name, c.email, s.orders, s.net
        FROM s LEFT JOIN customers c ON c.tenant_id = @tenant AND c.id = s.customer_id
        ORDER BY s.net DESC, s.customer_id
        """;

    public static async Task<IResult> HandleApiAsync([AsParameters] RankedRangeQuery query, HttpRequest request, XenoDb db, TenantContext tenant,
        TimeProvider clock, CancellationToken ct)
    {
        if (!MetricsRange.TryLimit(query.Limit, 5, out var limit)) return MetricsRange.Bad("limit must be a whole number from 1 to 100.");
        var (ask, error) = await MetricsRequest.ParseAsync(query.Range, request, db, tenant, clock);
        if (ask is null) return error!;
        var items = await QueryAsync(db, ask.Range, limit, ct);
        if (ask.Comparison is { } earlier) items = await WithComparisonAsync(db, items, earlier, ct);
        return ask.Csv ? Csv(items, ask.Range, ask.Comparison is not null) : TypedResults.Ok(new Response(items));
    }

    // The listed customers' net sales over the comparison range: their own days only (the primary key's range per customer).
    private const string ComparisonSql = """
        SELECT customer_id, sum(sales) - sum(returns) FROM customer_daily
        WHERE tenant_id = @tenant AND customer_id = ANY(@customers) AND day BETWEEN @from AND @to
        GROUP BY customer_id
        """;

    /// <summary>The items, each with the same customer's net sales over <paramref name="earlier"/> (METRICS.md "Top customers":
    /// their orders dated in it, less returns dated in it on their orders; 0 when they had neither).</summary>
    public static async Task<List<Item>> WithComparisonAsync(XenoDb db, List<Item> items, MetricsRange earlier, CancellationToken ct)
    {
        var ids = items.Select(i => long.Parse(i.CustomerId, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var nets = (await MetricsSql.QueryAsync(db, earlier, ComparisonSql, r => (Id: r.GetInt64(0), Net: r.GetDecimal(1)),
            c => c.Parameters.AddWithValue("customers", ids), ct)).ToDictionary(r => r.Id, r => r.Net);
        return items.Select((item, i) => item with { ComparisonNetSales = Money.Round(nets.GetValueOrDefault(ids[i])) }).ToList();
    }

    private static MetricsCsv Csv(List<Item> items, MetricsRange range, bool compared)
    {
        var header = new List<string> { "customerId", "name", "email", "orders", "netSales" };
        if (compared) header.Add("comparisonNetSales");
        var csv = new MetricsCsv(MetricsCsv.FileName(range, "top-customers"), header);
        foreach (var i in items)
            csv.Row(compared ? [i.CustomerId, i.Name, i.Email, i.Orders, i.NetSales, i.ComparisonNetSales] : [i.CustomerId, i.Name, i.Email, i.Orders, i.NetSales]);
        return csv;
    }

    // The trailing 7, 30, 90 and 365 days ending today are kept ranked as the data lands (ShopAggregates).
    private const string WindowSql = """
        SELECT w.customer_id, c.first_name, c.last_name, c.email, w.orders::bigint, w.net
        FROM customer_windows w LEFT JOIN customers c ON c.tenant_id = @tenant AND c.id = w.customer_id
        WHERE w.tenant_id = @tenant AND w.days = @days
        ORDER BY w.net DESC, w.customer_id
        LIMIT @limit
        """;

    public static async Task<List<Item>> QueryAsync(XenoDb db, MetricsRange range, int limit, CancellationToken ct)
    {
        var ranked = ShopAggregates.WindowDays.Contains((short)range.Days) && await WindowEndsOnAsync(db, range, ct);
        return await MetricsSql.QueryAsync(db, range, ranked ? WindowSql : Sql, Read, c =>
        {
            c.Parameters.AddWithValue("limit", limit);
            c.Parameters.AddWithValue("days", (short)range.Days);
        }, ct);
    }

    /// <summary>Whether the ranked windows end on the range's last day; a range ending today on a new day moves them on first.</summary>
    private static async Task<bool> WindowEndsOnAsync(XenoDb db, MetricsRange range, CancellationToken ct)
    {
        var (end, today) = (await MetricsSql.QueryAsync(db, range,
            "SELECT windows_day, (now() AT TIME ZONE timezone)::date, aggregates_timezone = timezone FROM stores WHERE id = @tenant",
            r => (r.IsDBNull(0) || r.IsDBNull(2) || !r.GetBoolean(2) ? (DateOnly?)null : r.GetFieldValue<DateOnly>(0), r.GetFieldValue<DateOnly>(1)), ct: ct)).Single();
        if (end == range.To) return true;
        if (end is null || range.To != today) return false;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await ShopAggregates.RollWindowsAsync((NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)transaction.GetDbTransaction(), range.StoreId, ct);
            await transaction.CommitAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        return true;
    }

    private static Item Read(NpgsqlDataReader r)
    {
        var first = r.IsDBNull(1) ? null : r.GetString(1);
        var last = r.IsDBNull(2) ? null : r.GetString(2);
        var email = r.IsDBNull(3) ? null : r.GetString(3);
        // First and last name joined (whichever exist), else the email, else nothing.
        var name = string.Join(' ', new[] { first, last }.Where(n => !string.IsNullOrWhiteSpace(n)));
        return new Item(r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture),
            name.Length > 0 ? name : email, email, (int)r.GetInt64(4), Money.Round(r.GetDecimal(5)));
    }
}
