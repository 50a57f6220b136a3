using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using Xeno.Web.Features.Stores;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Webhooks;

[Collection(XenoCollection.Name)]
public sealed class WebhookTests(XenoFixture fixture)
{
    private static readonly string FixtureDir = FindFixtures();

    private static string FindFixtures() => Path.Combine(AppContext.BaseDirectory, "Fixtures", "shopify");

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(FixtureDir, name));

    private async Task<(string Token, StoreResponse Store)> ConnectedStoreAsync()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        return (token, await fixture.ConnectStoreAsync(token, domain, shopToken));
    }

    private static string Sign(byte[] body, string secret) => Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private async Task<HttpStatusCode> PostAsync(string shop, string topic, byte[] body, string? signature = "sign",
        string? eventId = null, string? webhookId = null, DateTimeOffset? triggeredAt = null, bool fixtureShopUrl = false)
    {
        if (!fixtureShopUrl) body = WebhookSender.WithoutShopUrl(body);
        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Shopify-Topic", topic);
        request.Headers.Add("X-Shopify-Shop-Domain", shop);
        request.Headers.Add("X-Shopify-API-Version", "2026-10");
        request.Headers.Add("X-Shopify-Webhook-Id", webhookId ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Event-Id", eventId ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Triggered-At", (triggeredAt ?? DateTimeOffset.UtcNow).ToString("O"));
        if (signature is not null) request.Headers.Add("X-Shopify-Hmac-Sha256", signature == "sign" ? Sign(body, XenoFixture.WebhookSecret) : signature);
        return (await client.SendAsync(request)).StatusCode;
    }

    /// <summary>Waits until every stored delivery of the store has been applied (or failed).</summary>
    private async Task WaitProcessedAsync(Guid storeId)
    {
        for (var i = 0; i < 400; i++)
        {
            var pending = (long)(await fixture.ScalarAsync(storeId, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"))!;
            if (pending == 0) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("Webhooks were not processed.");
    }

    private async Task<long> CountAsync(Guid storeId, string sql) => Convert.ToInt64(await fixture.ScalarAsync(storeId, sql));

    private static long GidId(JsonNode node) => long.Parse(((string)node["admin_graphql_api_id"]!).Split('/')[^1]);

    [Fact]
    public async Task an_order_webhook_stores_the_order_its_lines_and_shop_money_exactly()
    {
        var (_, store) = await ConnectedStoreAsync();
        var body = Fixture("webhook-orders-create.json");
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "orders/create", body));
        await WaitProcessedAsync(store.Id);

        var json = JsonNode.Parse(body)!;
        var id = GidId(json); // exact, unlike the rounded JSON number in the docs sample
        Assert.Equal(1, await CountAsync(store.Id, $"SELECT count(*) FROM orders WHERE id = {id}"));
        Assert.Equal(decimal.Parse((string)json["total_price_set"]!["shop_money"]!["amount"]!, System.Globalization.CultureInfo.InvariantCulture),
            (decimal)(await fixture.ScalarAsync(store.Id, $"SELECT total_price FROM orders WHERE id = {id}"))!);
        Assert.Equal(json["line_items"]!.AsArray().Count, await CountAsync(store.Id, $"SELECT count(*) FROM order_lines WHERE order_id = {id}"));
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status <> 'processed'"));
    }

    [Fact]
    public async Task an_order_body_of_another_shop_replayed_with_this_shops_headers_is_recorded_and_not_applied()
    {
        var (_, store) = await ConnectedStoreAsync();
        // The real fixture, signed as Xeno's app signs every shop's deliveries, names its own shop (548380009) in
        // order_status_url: sent with this store's headers, it is someone else's order.
        var body = Fixture("webhook-orders-create.json");
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "orders/create", body, fixtureShopUrl: true));
        await WaitProcessedAsync(store.Id);
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
        Assert.Equal(1, await CountAsync(store.Id,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'ignored' AND ignored_reason LIKE '%order_status_url is of shop 548380009%'"));

        // The same order as this shop's own (its order status page on this shop's id) is applied.
        var own = JsonNode.Parse(body)!;
        var shopId = fixture.Shopify.State.FindShop(store.ShopDomain)!.Id;
        own["order_status_url"] = $"https://{store.ShopDomain}/{shopId}/orders/abc/authenticate?key=abc";
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "orders/create", Encoding.UTF8.GetBytes(own.ToJsonString()), fixtureShopUrl: true));
        await WaitProcessedAsync(store.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task every_topics_real_fixture_is_applied()
    {
        var (token, store) = await ConnectedStoreAsync();
        var topics = new (string Topic, string File)[]
        {
            ("orders/create", "webhook-orders-create.json"), ("orders/updated", "webhook-orders-create.json"),
            ("orders/cancelled", "webhook-orders-create.json"), ("refunds/create", "webhook-refunds-create.json"),
            ("products/create", "webhook-products-create.json"), ("products/update", "webhook-products-create.json"),
            ("customers/create", "webhook-customers-create.json"), ("customers/update", "webhook-customers-create.json"),
            ("checkouts/create", "webhook-checkouts-create.json"), ("checkouts/update", "webhook-checkouts-create.json"),
            ("carts/create", "webhook-carts-create.json"), ("carts/update", "webhook-carts-update-real.json"),
            ("customers/data_request", "webhook-customers-data-request.json"), // shop_domain set to the store's below
            ("orders/delete", "webhook-orders-delete.json"), ("products/delete", "webhook-products-delete.json"),
            ("customers/delete", "webhook-customers-delete.json"), ("checkouts/delete", "webhook-checkouts-delete.json"),
        };
        foreach (var (topic, file) in topics)
        {
            var body = topic == "customers/data_request" ? WebhookSender.ForShop(file, store.ShopDomain) : Fixture(file);
            Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, topic, body));
            await WaitProcessedAsync(store.Id); // in order, as the names say
        }
        Assert.Equal(topics.Length, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'"));

        var refund = JsonNode.Parse(Fixture("webhook-refunds-create.json"))!;
        Assert.Equal(1, await CountAsync(store.Id, $"SELECT count(*) FROM refunds WHERE id = {GidId(refund)}"));
        var refundSubtotal = refund["refund_line_items"]!.AsArray().Sum(l => decimal.Parse((string)l!["subtotal_set"]!["shop_money"]!["amount"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(refundSubtotal, (decimal)(await fixture.ScalarAsync(store.Id, $"SELECT sum(subtotal) FROM refund_lines WHERE refund_id = {GidId(refund)}"))!);

        var product = JsonNode.Parse(Fixture("webhook-products-create.json"))!;
        Assert.Equal((string)product["title"]!, await fixture.ScalarAsync(store.Id, $"SELECT title FROM products WHERE id = {GidId(product)}"));
        Assert.Equal(product["variants"]!.AsArray().Count, await CountAsync(store.Id, $"SELECT count(*) FROM product_variants WHERE product_id = {GidId(product)}"));

        var customer = JsonNode.Parse(Fixture("webhook-customers-create.json"))!;
        Assert.Equal((string?)customer["email"], await fixture.ScalarAsync(store.Id, $"SELECT email FROM customers WHERE id = {GidId(customer)}"));

        var checkout = JsonNode.Parse(Fixture("webhook-checkouts-create.json"))!;
        Assert.Equal(1, await CountAsync(store.Id, $"SELECT count(*) FROM checkouts WHERE token = '{(string)checkout["token"]!}'"));

        // Deletes: the order of orders/delete (its docs sample's id is a rounded number) stops counting.
        var deletedOrder = RoundTripLong(JsonNode.Parse(Fixture("webhook-orders-delete.json"))!["id"]!);
        Assert.Equal(1, await CountAsync(store.Id, $"SELECT count(*) FROM orders WHERE id = {deletedOrder} AND deleted_at IS NOT NULL"));

        // The data request is listed on the settings page and its data downloads as JSON.
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM customer_data_requests"));
        var browser = await SignedInBrowserAsync(token);
        var (_, settings) = await browser.GetAsync($"/stores/{store.Id}/settings");
        var link = System.Text.RegularExpressions.Regex.Match(settings, $"/stores/{store.Id}/settings/data-requests/[0-9a-f-]+").Value;
        Assert.NotEmpty(link);
        var (download, exported) = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/json", download.Content.Headers.ContentType!.MediaType);
        Assert.Contains("\"orders\"", exported);
    }

    private static long RoundTripLong(JsonNode n) => (long)n.GetValue<decimal>();

    private async Task<BrowserSession> SignedInBrowserAsync(string apiToken)
    {
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(apiToken);
        await browser.GetAsync("/login");
        return browser;
    }

    [Fact]
    public async Task a_delivery_that_fails_is_kept_retried_and_shown_on_the_settings_page()
    {
        var (token, store) = await ConnectedStoreAsync();
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "orders/delete", Encoding.UTF8.GetBytes("{\"id\": \"not a number\"}")));
        for (var i = 0; i < 200 && await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed'") == 0; i++)
            await Task.Delay(50);

        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND body IS NOT NULL AND last_error IS NOT NULL"));
        var browser = await SignedInBrowserAsync(token);
        var (_, settings) = await browser.GetAsync($"/stores/{store.Id}/settings");
        Assert.Contains("orders/delete", settings);
        Assert.Contains("FormatException", settings);
    }

    [Fact]
    public async Task a_forged_or_missing_hmac_gets_401_and_changes_nothing()
    {
        var (_, store) = await ConnectedStoreAsync();
        var body = Fixture("webhook-orders-create.json");
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(store.ShopDomain, "orders/create", body, signature: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(store.ShopDomain, "orders/create", body, signature: Sign(body, "wrong secret")));
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("404.95", "1.00"));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(store.ShopDomain, "orders/create", tampered, signature: Sign(body, XenoFixture.WebhookSecret)));
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries"));
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task the_previous_secret_is_accepted_during_a_rotation()
    {
        var (_, store) = await ConnectedStoreAsync();
        var body = Fixture("webhook-customers-create.json");
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "customers/create", body, signature: Sign(body, XenoFixture.PreviousWebhookSecret)));
        await WaitProcessedAsync(store.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM customers"));
    }

    [Fact]
    public async Task a_body_over_5_mib_gets_413_and_one_that_is_not_json_gets_400()
    {
        var (_, store) = await ConnectedStoreAsync();
        var big = Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('x', 5 * 1024 * 1024) + "\"}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await PostAsync(store.ShopDomain, "orders/create", big));
        Assert.Equal(HttpStatusCode.BadRequest, await PostAsync(store.ShopDomain, "orders/create", Encoding.UTF8.GetBytes("not json")));
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries"));
    }

    [Fact]
    public async Task one_delivery_sent_ten_times_at_once_is_applied_once()
    {
        var (_, store) = await ConnectedStoreAsync();
        var body = Fixture("webhook-refunds-create.json");
        var webhookId = Guid.NewGuid().ToString();
        var eventId = Guid.NewGuid().ToString();
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => PostAsync(store.ShopDomain, "refunds/create", body, eventId: eventId, webhookId: webhookId)));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a));
        await WaitProcessedAsync(store.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries"));
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM refunds"));

        // The same event again under a new delivery id (Shopify's retry) changes nothing either.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "refunds/create", body, eventId: eventId));
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries"));
    }

    [Fact]
    public async Task an_older_update_after_a_newer_one_changes_nothing()
    {
        var (_, store) = await ConnectedStoreAsync();
        var newer = JsonNode.Parse(Fixture("webhook-customers-create.json"))!;
        newer["updated_at"] = "2026-06-01T12:00:00-04:00";
        newer["first_name"] = "Newer";
        var older = JsonNode.Parse(Fixture("webhook-customers-create.json"))!;
        older["updated_at"] = "2026-05-01T12:00:00-04:00";
        older["first_name"] = "Older";

        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "customers/update", Encoding.UTF8.GetBytes(newer.ToJsonString())));
        await WaitProcessedAsync(store.Id);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "customers/update", Encoding.UTF8.GetBytes(older.ToJsonString())));
        await WaitProcessedAsync(store.Id);
        Assert.Equal("Newer", await fixture.ScalarAsync(store.Id, "SELECT first_name FROM customers"));
    }

    [Fact]
    public async Task a_webhook_for_a_shop_no_account_connected_changes_nothing()
    {
        var (domain, shopToken) = fixture.NewShop();
        Assert.Equal(HttpStatusCode.OK, await PostAsync(domain, "orders/create", Fixture("webhook-orders-create.json")));
        // Connected afterwards, the shop has no trace of it.
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries"));
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task a_customer_redact_leaves_no_personal_data_of_that_customer_and_keeps_the_amounts()
    {
        var (_, store) = await ConnectedStoreAsync();
        var redact = JsonNode.Parse(Fixture("webhook-customers-redact.json"))!;
        var customerId = (long)redact["customer"]!["id"]!;
        var email = (string)redact["customer"]!["email"]!;
        var phone = (string)redact["customer"]!["phone"]!;

        var customer = JsonNode.Parse(Fixture("webhook-customers-create.json"))!;
        customer["id"] = customerId;
        customer["admin_graphql_api_id"] = $"gid://shopify/Customer/{customerId}";
        customer["email"] = email;
        customer["phone"] = phone;
        var order = JsonNode.Parse(Fixture("webhook-orders-create.json"))!;
        order["customer"]!["id"] = customerId;
        order["customer"]!["admin_graphql_api_id"] = $"gid://shopify/Customer/{customerId}";
        order["email"] = email;
        await PostAsync(store.ShopDomain, "customers/create", Encoding.UTF8.GetBytes(customer.ToJsonString()));
        await PostAsync(store.ShopDomain, "orders/create", Encoding.UTF8.GetBytes(order.ToJsonString()));
        await WaitProcessedAsync(store.Id);
        var totalBefore = await fixture.ScalarAsync(store.Id, "SELECT sum(total_price) FROM orders");
        Assert.True(await PersonalDataRowsAsync(store.Id, email) > 0); // the test can see the data before

        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "customers/redact", WebhookSender.ForShop("webhook-customers-redact.json", store.ShopDomain)));
        await WaitProcessedAsync(store.Id);

        Assert.Equal(0, await PersonalDataRowsAsync(store.Id, email));
        Assert.Equal(0, await PersonalDataRowsAsync(store.Id, phone));
        Assert.Equal(0, await PersonalDataRowsAsync(store.Id, (string)customer["first_name"]!));
        Assert.Equal(totalBefore, await fixture.ScalarAsync(store.Id, "SELECT sum(total_price) FROM orders"));

        // A late update of the customer does not bring the data back.
        await PostAsync(store.ShopDomain, "customers/update", Encoding.UTF8.GetBytes(customer.ToJsonString()));
        await WaitProcessedAsync(store.Id);
        Assert.Null(await fixture.ScalarAsync(store.Id, $"SELECT email FROM customers WHERE id = {customerId}"));
    }

    /// <summary>Rows of any table of the store whose text mentions <paramref name="needle"/>.</summary>
    private async Task<long> PersonalDataRowsAsync(Guid storeId, string needle)
    {
        var tables = new[] { "customers", "orders", "order_lines", "refunds", "refund_lines", "checkouts", "products", "product_variants", "webhook_deliveries", "customer_data_requests" };
        var total = 0L;
        foreach (var table in tables)
            total += await CountAsync(storeId, $"SELECT count(*) FROM {table} t WHERE t::text ILIKE '%{needle.Replace("'", "''")}%'");
        return total;
    }

    [Fact]
    public async Task app_uninstalled_marks_the_store_and_shop_redact_erases_it()
    {
        var (token, store) = await ConnectedStoreAsync();
        await PostAsync(store.ShopDomain, "customers/create", Fixture("webhook-customers-create.json"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "app/uninstalled", Fixture("webhook-app-uninstalled.json")));
        await WaitProcessedAsync(store.Id);
        var result = await fixture.Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(token); });
        Assert.Equal("uninstalled", (await result.ReadAsJsonAsync<StoreResponse>())!.Status);

        // Shopify sends shop/redact 48 hours after the uninstall: as if they had passed.
        await fixture.ScalarAsync(store.Id, $"UPDATE stores SET uninstalled_at = uninstalled_at - interval '49 hours' WHERE id = '{store.Id}'");
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "shop/redact", WebhookSender.ForShop("webhook-shop-redact.json", store.ShopDomain)));
        for (var i = 0; i < 200 && await CountAsync(store.Id, "SELECT count(*) FROM customers") > 0; i++) await Task.Delay(50);
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM customers"));
        Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries"));
        await fixture.Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(token); s.StatusCodeShouldBe(404); });
    }

    [Fact]
    public async Task an_uninstall_from_before_a_reinstall_leaves_the_reinstalled_store_connected()
    {
        var (token, store) = await ConnectedStoreAsync();
        // Shopify retrying the uninstall of the shop's earlier installation after the merchant installed Xeno again
        // (or the inbox behind the reinstall): the tokens it revoked are not the ones Xeno holds now.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "app/uninstalled", Fixture("webhook-app-uninstalled.json"),
            triggeredAt: DateTimeOffset.UtcNow.AddMinutes(-10)));
        await WaitProcessedAsync(store.Id);
        var result = await fixture.Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(token); });
        Assert.Equal("active", (await result.ReadAsJsonAsync<StoreResponse>())!.Status);
        Assert.Equal(1L, await CountAsync(store.Id, "SELECT count(*) FROM store_credentials WHERE encrypted_access_token IS NOT NULL"));

        // An uninstall of this installation still ends it.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(store.ShopDomain, "app/uninstalled", Fixture("webhook-app-uninstalled.json")));
        await WaitProcessedAsync(store.Id);
        result = await fixture.Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(token); });
        Assert.Equal("uninstalled", (await result.ReadAsJsonAsync<StoreResponse>())!.Status);
    }
}
