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

        // Uninstalled an hour ago (installed before that): still too early.
        await fixture.ScalarAsync(store.Id, "UPDATE store_credentials SET updated_at = now() - interval '2 hours'");
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

    // ---- Item 6: privacy gaps ----

    [Fact]
    public async Task customers_redact_reaches_deliveries_not_yet_applied_and_applying_them_later_brings_nothing_back()
    {
        var (_, store) = await ConnectedStoreAsync();
        const string name = "Pendelope";
        // Deliveries about the customer waiting in the queue: failed and due again in an hour, and failed for good.
        await InsertDeliveryAsync(store, "customers/update", Customer(name).ToJsonString(), "failed", TimeSpan.FromMinutes(5), TimeSpan.FromHours(1));
        await InsertDeliveryAsync(store, "orders/create", CustomerOrder(7_600_000_000_001, 42m, name).ToJsonString(), "failed",
            TimeSpan.FromMinutes(5), TimeSpan.FromHours(1));
        await InsertDeliveryAsync(store, "customers/update", Customer(name).ToJsonString(), "failed", TimeSpan.FromHours(3), null, attempts: 10);
        Assert.Equal(3, await CountAsync(store.Id, $"SELECT count(*) FROM webhook_deliveries WHERE body LIKE '%{Email}%'"));

        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/redact",
            ForShop("webhook-customers-redact.json", store.ShopDomain)));
        await WaitAppliedAsync(store.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE topic = 'customers/redact' AND status = 'processed'"));

        // No personal data is left anywhere, in the deliveries still to be applied neither.
        Assert.Equal(0, await RowsMentioningAsync(store.Id, Email));
        Assert.Equal(0, await RowsMentioningAsync(store.Id, Phone));
        Assert.Equal(0, await RowsMentioningAsync(store.Id, name));
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND next_attempt_at IS NULL AND body IS NULL"));

        // Their tries come: they are applied, the order counts, and the customer gets no personal data back.
        await fixture.ScalarAsync(store.Id, "UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second' WHERE next_attempt_at IS NOT NULL");
        await SweepAsync();
        await WaitUntilAsync(async () => await CountAsync(store.Id,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND next_attempt_at IS NOT NULL") == 0, "the retries");
        Assert.Equal(2, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE topic <> 'customers/redact' AND status = 'processed'"));
        Assert.Equal(42m, (decimal)(await fixture.ScalarAsync(store.Id, "SELECT sum(total_price) FROM orders WHERE id = 7600000000001"))!);
        Assert.Equal(1, await CountAsync(store.Id, $"SELECT count(*) FROM customers WHERE id = {CustomerId} AND redacted_at IS NOT NULL AND email IS NULL AND first_name IS NULL"));
        Assert.Equal(0, await RowsMentioningAsync(store.Id, Email));
        Assert.Equal(0, await RowsMentioningAsync(store.Id, name));
    }

    [Fact]
    public async Task a_delivery_behind_the_redact_in_its_batch_keeps_no_personal_data()
    {
        var (_, store) = await ConnectedStoreAsync();
        const string name = "Batchilda";
        // One batch: the redact, then an update of the customer that Shopify sent before it and that arrived late.
        await InsertDeliveryAsync(store, "customers/redact", Encoding.UTF8.GetString(ForShop("webhook-customers-redact.json", store.ShopDomain)),
            "pending", TimeSpan.FromSeconds(2), null, attempts: 0);
        await InsertDeliveryAsync(store, "customers/update", Customer(name).ToJsonString(), "pending", TimeSpan.FromSeconds(1), null, attempts: 0);
        // Marked only now, so that the first worker to come takes both together.
        await fixture.ScalarAsync(store.Id, $"INSERT INTO webhook_pending (store_id, updated_at) VALUES ('{store.Id}', now()) ON CONFLICT DO NOTHING");
        await WaitAppliedAsync(store.Id);

        Assert.Equal(2, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'"));
        Assert.Equal(0, await RowsMentioningAsync(store.Id, Email));
        Assert.Equal(0, await RowsMentioningAsync(store.Id, name));
    }

    [Fact]
    public async Task failed_deliveries_are_pruned_a_week_after_they_arrived_unless_a_try_is_still_to_come()
    {
        var (_, store) = await ConnectedStoreAsync();
        await InsertDeliveryAsync(store, "orders/delete", "{\"id\": \"old and failed for good\"}", "failed", TimeSpan.FromDays(8), null, attempts: 10);
        await InsertDeliveryAsync(store, "orders/delete", "{\"id\": \"old and still to be tried\"}", "failed", TimeSpan.FromDays(8), TimeSpan.FromHours(1));
        await InsertDeliveryAsync(store, "orders/delete", "{\"id\": \"recent and failed for good\"}", "failed", TimeSpan.FromDays(2), null, attempts: 10);
        await InsertDeliveryAsync(store, "orders/delete", "{\"id\": 1}", "processed", TimeSpan.FromDays(8), null);

        await SweepAsync();

        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE body LIKE '%failed for good%' AND received_at < now() - interval '7 days'"));
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'"));
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE body LIKE '%still to be tried%'"));
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE body LIKE '%recent and failed%'"));
    }

    [Fact]
    public async Task a_data_request_export_holds_the_customer_their_orders_checkouts_and_raw_webhook_bodies()
    {
        var (token, store) = await ConnectedStoreAsync();
        const string name = "Exportia";
        var checkout = JsonNode.Parse(Fixture("webhook-checkouts-create.json"))!;
        checkout["id"] = 7_700_000_000_001;
        checkout["token"] = "export-checkout-token";
        checkout["customer"]!["id"] = CustomerId;
        checkout["customer"]!["admin_graphql_api_id"] = $"gid://shopify/Customer/{CustomerId}";
        checkout["customer"]!["email"] = Email;
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/create", Json(Customer(name))));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "orders/create", Json(CustomerOrder(7_700_000_000_002, 12m, name))));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "checkouts/create", Json(checkout)));
        // Another customer's order, which must not be in the export.
        var stranger = JsonNode.Parse(Order(7_700_000_000_003, 5m))!;
        stranger["customer"]!["id"] = 999_001;
        stranger["customer"]!["admin_graphql_api_id"] = "gid://shopify/Customer/999001";
        stranger["customer"]!["first_name"] = "Strangerella";
        stranger["customer"]!["email"] = "stranger@example.com"; // the fixture's is the fixtures' customer's, as in the redact sample
        stranger["email"] = "stranger@example.com";
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "orders/create", Json(stranger)));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/data_request", DataRequest(store.ShopDomain, 5151, CustomerId)));
        await WaitAppliedAsync(store.Id);

        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(token);
        await browser.GetAsync("/login");
        var (_, settings) = await browser.GetAsync($"/stores/{store.Id}/settings");
        var link = System.Text.RegularExpressions.Regex.Match(settings, $"/stores/{store.Id}/settings/data-requests/[0-9a-f-]+").Value;
        Assert.NotEmpty(link);
        var (download, exported) = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var export = JsonNode.Parse(exported)!;

        Assert.Contains(export["checkouts"]?.AsArray() ?? [], c => (string?)c!["token"] == "export-checkout-token");
        Assert.NotNull(export["webhookDeliveries"]);
        Assert.Equal(Email, (string?)export["customer"]!["email"]);
        Assert.Contains(export["orders"]!.AsArray(), o => (string?)o!["id"] == "7700000000002" && o["lines"]?.AsArray().Count == 5);
        Assert.DoesNotContain(export["orders"]!.AsArray(), o => (string?)o!["id"] == "7700000000003");
        var topics = export["webhookDeliveries"]!.AsArray().Select(d => (string?)d!["topic"]).Order().ToList();
        Assert.Equal(["checkouts/create", "customers/create", "customers/data_request", "orders/create"], topics);
        // Raw, as Shopify sent them: the customer's own body, names and all.
        Assert.Contains(export["webhookDeliveries"]!.AsArray(), d => ((string?)d!["body"])?.Contains(name) == true);
        Assert.DoesNotContain("Strangerella", exported);
    }
}
