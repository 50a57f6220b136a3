using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xeno.Web.Features.Stores;
using Xeno.Web.Features.Webhooks;
using Xeno.Web.Tests.Infrastructure;
using static Xeno.Web.Tests.Webhooks.WebhookSender;

namespace Xeno.Web.Tests.Webhooks;

/// <summary>Privacy topics: replayed bodies change nothing, shop/redact waits for the uninstall to be 48 hours old,
/// customers/redact reaches every stored body (applied or not), and a data request exports all Xeno holds.</summary>
[Collection(XenoCollection.Name)]
public sealed class WebhookPrivacyTests(XenoFixture fixture)
{
    private async Task<(string Token, StoreResponse Store)> ConnectedStoreAsync()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        return (token, await fixture.ConnectStoreAsync(token, domain, shopToken));
    }

    private async Task<long> CountAsync(Guid storeId, string sql) => Convert.ToInt64(await fixture.ScalarAsync(storeId, sql), CultureInfo.InvariantCulture);

    private Task WaitAppliedAsync(Guid storeId) => WaitUntilAsync(
        async () => await CountAsync(storeId, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") == 0, "the deliveries to be applied");

    private async Task SweepAsync()
    {
        await using var scope = fixture.Host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ProcessWebhook>().SweepAsync(CancellationToken.None);
    }

    private const long CustomerId = 191167; // the fixtures' customer
    private const string Email = "john@example.com";
    private const string Phone = "555-625-1199";

    private static byte[] Json(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    /// <summary>customers/create of the fixtures' customer, with a first name no other row has.</summary>
    private static JsonNode Customer(string firstName, string updatedAt = "2026-06-01T12:00:00-04:00")
    {
        var customer = JsonNode.Parse(Fixture("webhook-customers-create.json"))!;
        customer["id"] = CustomerId;
        customer["admin_graphql_api_id"] = $"gid://shopify/Customer/{CustomerId}";
        customer["email"] = Email;
        customer["phone"] = Phone;
        customer["first_name"] = firstName;
        customer["updated_at"] = updatedAt;
        return customer;
    }

    /// <summary>An order of the fixtures' customer, carrying their email, names and addresses as real ones do.</summary>
    private static JsonNode CustomerOrder(long id, decimal total, string firstName)
    {
        var order = JsonNode.Parse(Order(id, total))!;
        order["customer"]!["id"] = CustomerId;
        order["customer"]!["admin_graphql_api_id"] = $"gid://shopify/Customer/{CustomerId}";
        order["customer"]!["first_name"] = firstName;
        order["customer"]!["email"] = Email;
        order["email"] = Email;
        order["contact_email"] = Email;
        order["billing_address"]!["first_name"] = firstName;
        order["shipping_address"]!["first_name"] = firstName;
        return order;
    }

    /// <summary>Rows of any table of the store whose text mentions <paramref name="needle"/>.</summary>
    private async Task<long> RowsMentioningAsync(Guid storeId, string needle)
    {
        var tables = new[] { "customers", "orders", "order_lines", "refunds", "refund_lines", "checkouts", "products", "product_variants", "webhook_deliveries", "customer_data_requests" };
        var total = 0L;
        foreach (var table in tables)
            total += await CountAsync(storeId, $"SELECT count(*) FROM {table} t WHERE t::text ILIKE '%{needle.Replace("'", "''")}%'");
        return total;
    }

    /// <summary>Stores a delivery as intake would, with the status, age and next try the test needs, without marking the store.</summary>
    private async Task InsertDeliveryAsync(StoreResponse store, string topic, string? body, string status, TimeSpan age, TimeSpan? nextAttemptIn, int attempts = 1)
    {
        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var tenant = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true)", connection, transaction))
        {
            tenant.Parameters.AddWithValue("t", store.Id.ToString());
            await tenant.ExecuteNonQueryAsync();
        }
        await using var insert = new NpgsqlCommand("""
            INSERT INTO webhook_deliveries (id, tenant_id, topic, shop_domain, body, received_at, status, attempts, next_attempt_at, last_error)
            VALUES (@id, @t, @topic, @shop, @body, now() - @age, @status, @attempts, now() + @next, CASE WHEN @status = 'failed' THEN 'Test: failed' END)
            """, connection, transaction);
        insert.Parameters.AddWithValue("id", Guid.CreateVersion7());
        insert.Parameters.AddWithValue("t", store.Id);
        insert.Parameters.AddWithValue("topic", topic);
        insert.Parameters.AddWithValue("shop", store.ShopDomain);
        insert.Parameters.AddWithValue("body", (object?)body ?? DBNull.Value);
        insert.Parameters.AddWithValue("age", age);
        insert.Parameters.AddWithValue("status", status);
        insert.Parameters.AddWithValue("attempts", attempts);
        insert.Parameters.Add(new NpgsqlParameter("next", NpgsqlTypes.NpgsqlDbType.Interval) { Value = nextAttemptIn is { } n ? n : DBNull.Value });
        await insert.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    // ---- Item 2: replayed bodies ----

    [Fact]
    public async Task a_privacy_or_uninstall_body_of_another_shop_is_recorded_and_changes_nothing()
    {
        var (_, victim) = await ConnectedStoreAsync();
        var (_, signedFor) = await ConnectedStoreAsync();
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, victim.ShopDomain, "customers/create", Json(Customer("Victimina"))));
        await WaitAppliedAsync(victim.Id);

        // Bodies Shopify signed for the other shop (both stores verify with Xeno's app secret), resent under the victim's
        // name; the first carries an event id that the victim's genuine delivery will carry too.
        var replayedEvent = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, victim.ShopDomain, "customers/redact",
            ForShop("webhook-customers-redact.json", signedFor.ShopDomain), eventId: replayedEvent));
        var uninstalled = JsonNode.Parse(Fixture("webhook-app-uninstalled.json"))!;
        uninstalled["myshopify_domain"] = signedFor.ShopDomain;
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, victim.ShopDomain, "app/uninstalled", Json(uninstalled)));
        var noShop = JsonNode.Parse(Fixture("webhook-customers-redact.json"))!.AsObject();
        noShop.Remove("shop_domain");
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, victim.ShopDomain, "customers/redact", Json(noShop)));
        await WaitAppliedAsync(victim.Id);

        // Nothing changed: the customer keeps their data, the store stays installed.
        Assert.Equal(Email, await fixture.ScalarAsync(victim.Id, $"SELECT email FROM customers WHERE id = {CustomerId}"));
        Assert.Equal("Active", await fixture.ScalarAsync(victim.Id, $"SELECT status FROM stores WHERE id = '{victim.Id}'"));

        // Uninstalled for long enough that a genuine shop/redact would erase it, the victim still ignores the other shop's.
        await fixture.ScalarAsync(victim.Id,
            $"UPDATE stores SET status = 'Uninstalled', uninstalled_at = now() - interval '3 days' WHERE id = '{victim.Id}'");
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, victim.ShopDomain, "shop/redact", ForShop("webhook-shop-redact.json", signedFor.ShopDomain)));
        await WaitAppliedAsync(victim.Id);
        Assert.Equal(1, await CountAsync(victim.Id, $"SELECT count(*) FROM stores WHERE id = '{victim.Id}'"));
        Assert.Equal(Email, await fixture.ScalarAsync(victim.Id, $"SELECT email FROM customers WHERE id = {CustomerId}"));

        // Each is recorded, ignored with its reason, without the other shop's body.
        Assert.Equal(4, await CountAsync(victim.Id, """
            SELECT count(*) FROM webhook_deliveries
            WHERE topic IN ('customers/redact', 'shop/redact', 'app/uninstalled') AND status = 'ignored' AND ignored_reason LIKE '%shop%' AND body IS NULL
            """));

        // The genuine delivery with the event id the replay carried is not taken for a repeat.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, victim.ShopDomain, "customers/redact",
            ForShop("webhook-customers-redact.json", victim.ShopDomain), eventId: replayedEvent));
        await WaitAppliedAsync(victim.Id);
        Assert.Null(await fixture.ScalarAsync(victim.Id, $"SELECT email FROM customers WHERE id = {CustomerId}"));
    }

    [Fact]
    public async Task shop_redact_before_the_uninstall_is_48_hours_old_is_recorded_and_erases_nothing()
    {
        var (_, store) = await ConnectedStoreAsync();
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/create", Json(Customer("Early"))));
        await WaitAppliedAsync(store.Id);

        // Installed: a shop/redact (its own shop's, signed) is recorded and ignored.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "shop/redact", ForShop("webhook-shop-redact.json", store.ShopDomain)));
        await WaitAppliedAsync(store.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM customers"));

        // Uninstalled an hour ago: still too early.
        var uninstalled = JsonNode.Parse(Fixture("webhook-app-uninstalled.json"))!;
        uninstalled["myshopify_domain"] = store.ShopDomain;
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "app/uninstalled", Json(uninstalled),
            triggeredAt: DateTimeOffset.UtcNow.AddHours(-1)));
        await WaitAppliedAsync(store.Id);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "shop/redact", ForShop("webhook-shop-redact.json", store.ShopDomain)));
        await WaitAppliedAsync(store.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM customers"));
        Assert.Equal(2, await CountAsync(store.Id, """
            SELECT count(*) FROM webhook_deliveries WHERE topic = 'shop/redact' AND status = 'ignored' AND ignored_reason LIKE '%48 hours%'
            """));
        // The uninstall's time is Shopify's (its Triggered-At), not when the worker came to it.
        Assert.Equal(1, await CountAsync(store.Id,
            $"SELECT count(*) FROM stores WHERE id = '{store.Id}' AND uninstalled_at < now() - interval '50 minutes'"));

        // 48 hours on, Shopify's shop/redact erases the store.
        await fixture.ScalarAsync(store.Id, $"UPDATE stores SET uninstalled_at = uninstalled_at - interval '48 hours' WHERE id = '{store.Id}'");
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "shop/redact", ForShop("webhook-shop-redact.json", store.ShopDomain)));
        await WaitUntilAsync(async () => await CountAsync(store.Id, $"SELECT count(*) FROM stores WHERE id = '{store.Id}'") == 0, "the store to be erased");
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM customers"));
    }

    [Fact]
    public async Task a_privacy_request_triggered_over_a_day_before_it_arrived_is_recorded_and_not_applied()
    {
        var (_, store) = await ConnectedStoreAsync();
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/create", Json(Customer("Stale"))));
        await WaitAppliedAsync(store.Id);

        var old = DateTimeOffset.UtcNow.AddDays(-2);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/redact",
            ForShop("webhook-customers-redact.json", store.ShopDomain), triggeredAt: old));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/data_request",
            DataRequest(store.ShopDomain, 4242, CustomerId), triggeredAt: old));
        await WaitAppliedAsync(store.Id);

        Assert.Equal(Email, await fixture.ScalarAsync(store.Id, $"SELECT email FROM customers WHERE id = {CustomerId}"));
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM customer_data_requests"));
        Assert.Equal(2, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'ignored' AND ignored_reason LIKE '%Triggered-At%'"));

        // A resource topic as late is still applied (only privacy requests must be fresh).
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/update",
            Json(Customer("Later", "2026-07-01T12:00:00-04:00")), triggeredAt: old));
        await WaitAppliedAsync(store.Id);
        Assert.Equal("Later", await fixture.ScalarAsync(store.Id, $"SELECT first_name FROM customers WHERE id = {CustomerId}"));
    }
}
