using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public static class GetTopCustomers
{
    public sealed record Item(string CustomerId, string? Name, string? Email, int Orders, decimal NetSales);
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

    public static async Task<IResult> HandleApiAsync(HttpRequest request, XenoDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var (range, error) = await MetricsRange.ParseAsync(request, db, tenant, clock);
        if (range is null) return error!;
        if (!MetricsRange.TryLimit(request.Query["limit"], 5, out var limit)) return MetricsRange.Bad("limit must be a whole number from 1 to 100.");
        return TypedResults.Ok(new Response(await QueryAsync(db, range, limit, ct)));
    }

    public static Task<List<Item>> QueryAsync(XenoDb db, MetricsRange range, int limit, CancellationToken ct) =>
        MetricsSql.QueryAsync(db, range, Sql, r =>
        {
            var first = r.IsDBNull(1) ? null : r.GetString(1);
            var last = r.IsDBNull(2) ? null : r.GetString(2);
            var email = r.IsDBNull(3) ? null : r.GetString(3);
            // First and last name joined (whichever exist), else the email, else nothing.
            var name = string.Join(' ', new[] { first, last }.Where(n => !string.IsNullOrWhiteSpace(n)));
            return new Item(r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                name.Length > 0 ? name : email, email, (int)r.GetInt64(4), Money.Round(r.GetDecimal(5)));
        }, c => c.Parameters.AddWithValue("limit", limit), ct);
}
