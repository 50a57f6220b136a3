using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer.Tests;

public class WebhookTests
{
    private const string Token = "shpat_hooks";

    /// <summary>The first day of daylight saving time in New York, so local times carry -04:00.</summary>
    private static readonly DateTimeOffset Now = new(2026, 3, 8, 14, 15, 0, TimeSpan.Zero);

    // Key sets of Shopify's docs samples in shared/fixtures/shopify; bodies may carry more keys, never fewer.
    private const string OrderKeys = "admin_graphql_api_id app_id billing_address browser_ip buyer_accepts_marketing cancel_reason cancelled_at cart_token checkout_token client_details closed_at confirmation_number confirmed contact_email created_at currency current_shipping_price_set current_subtotal_price current_subtotal_price_set current_total_additional_fees_set current_total_discounts current_total_discounts_set current_total_duties_set current_total_price current_total_price_set current_total_tax current_total_tax_set customer customer_locale device_id discount_applications discount_codes duties_included email estimated_taxes financial_status fulfillment_status fulfillments id landing_site landing_site_ref line_item_groups line_items location_id merchant_business_entity_id merchant_of_record_app_id name note note_attributes number order_number order_status_url original_total_additional_fees_set original_total_duties_set payment_gateway_names payment_terms phone po_number presentment_currency processed_at reference referring_site refunds returns shipping_address shipping_lines source_identifier source_name source_url subtotal_price subtotal_price_set tags tax_exempt tax_lines taxes_included test token total_cash_rounding_payment_adjustment_set total_cash_rounding_refund_adjustment_set total_discounts total_discounts_set total_line_items_price total_line_items_price_set total_outstanding total_price total_price_set total_shipping_price_set total_tax total_tax_set total_tip_received total_weight updated_at user_id";
    private const string LineItemKeys = "admin_graphql_api_id attributed_staffs current_quantity discount_allocations duties fulfillable_quantity fulfillment_service fulfillment_status gift_card grams id name price price_set product_exists product_id properties quantity requires_shipping sales_line_item_group_id sku tax_lines taxable title total_discount total_discount_set variant_id variant_inventory_management variant_title vendor";
    private const string ShippingLineKeys = "carrier_identifier code current_discounted_price_set discount_allocations discounted_price discounted_price_set id is_removed phone price price_set requested_fulfillment_service_id source tax_lines title";
    private const string OrderCustomerKeys = "admin_graphql_api_id created_at currency default_address email first_name id last_name multipass_identifier note phone state tax_exempt tax_exemptions updated_at verified_email";
    private const string RefundKeys = "admin_graphql_api_id created_at duties id note order_adjustments order_id processed_at refund_line_items refund_shipping_lines restock return total_duties_set transactions user_id";
    private const string RefundLineItemKeys = "id line_item line_item_id location_id quantity restock_type subtotal subtotal_set total_tax total_tax_set";
    private const string ProductKeys = "admin_graphql_api_id body_html category created_at handle has_variants_that_requires_components id image images media options product_type published_at published_scope status tags template_suffix title updated_at variant_gids variants vendor";
    private const string VariantKeys = "admin_graphql_api_id barcode compare_at_price created_at id image_id inventory_item_id inventory_policy inventory_quantity old_inventory_quantity option1 option2 option3 position price product_id sku taxable title updated_at";
    private const string CustomerKeys = "addresses admin_graphql_api_id created_at currency default_address email first_name id last_name multipass_identifier note phone state tax_exempt tax_exemptions updated_at verified_email";
    private const string CheckoutKeys = "abandoned_checkout_url billing_address buyer_accepts_marketing buyer_accepts_sms_marketing cart_token closed_at completed_at created_at currency customer customer_locale device_id discount_codes email gateway landing_site line_items location_id name note note_attributes phone presentment_currency referring_site reservation_token shipping_address shipping_lines sms_marketing_phone source source_identifier source_name source_url subtotal_price tax_lines taxes_included token total_discounts total_duties total_line_items_price total_price total_tax total_weight updated_at user_id";
    private const string CheckoutLineKeys = "applied_discounts compare_at_price destination_location_id discount_allocations fulfillment_service gift_card grams key line_price origin_location_id presentment_title presentment_variant_title price product_id properties quantity rank requires_shipping sku tax_lines taxable title unit_price_measurement user_id variant_id variant_price variant_title vendor";

    private sealed class Harness : IAsyncDisposable
    {
        public required ShopifyServerState State { get; init; }
        public required Shop Shop { get; init; }
        public required ShopifyTestServer Server { get; init; }
        public required ShopifyApi Api { get; init; }
        public required WebhookReceiver Receiver { get; init; }
        public required FixedClock Clock { get; init; }

        public async Task SubscribeAsync(string topic, string path = "/webhooks", string? name = null)
        {
            var data = await Api.DataAsync("""
                mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
                  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
                    webhookSubscription { id topic uri } userErrors { field message } } }
                """, new { topic, sub = new { uri = Receiver.Url(path), name } });
            Assert.Equal(0, data.GetProperty("webhookSubscriptionCreate").GetProperty("userErrors").GetArrayLength());
        }

        /// <summary>Flushes and returns what arrived since the last call.</summary>
        public async Task<List<ReceivedWebhook>> NextAsync()
        {
            await State.FlushWebhooksAsync().WaitAsync(TimeSpan.FromSeconds(20));
            var all = new List<ReceivedWebhook>();
            while (Receiver.Received.TryDequeue(out var hook))
                all.Add(hook);
            return all;
        }

        public async ValueTask DisposeAsync()
        {
            Api.Dispose();
            await Server.DisposeAsync();
            await Receiver.DisposeAsync();
            State.Webhooks.Dispose();
        }
    }

    private static async Task<Harness> StartAsync(string domain, int orders = 40)
    {
        var clock = new FixedClock(Now);
        var state = new ShopifyServerState(clock);
        var shop = state.AddShop(ShopGenerator.Generate(21, orders, new ShopGeneratorOptions { Now = Now.AddHours(-1), Domain = domain }), Token);
        var server = await ShopifyTestServer.StartAsync(state);
        return new Harness
        {
            State = state,
            Shop = shop,
            Server = server,
            Api = new ShopifyApi(server, domain, Token),
            Receiver = await WebhookReceiver.StartAsync(),
            Clock = clock,
        };
    }

    private static bool Verifies(ReceivedWebhook hook, string secret) =>
        CryptographicOperations.FixedTimeEquals(
            Convert.FromBase64String(hook.Headers["X-Shopify-Hmac-Sha256"]),
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), hook.Body));

    private static void HasKeys(string expected, JsonElement element)
    {
        var actual = element.EnumerateObject().Select(p => p.Name).ToHashSet();
        var missing = expected.Split(' ').Where(k => !actual.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "missing keys: " + string.Join(", ", missing));
    }

    private static string Amount(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    private static long GidNumber(JsonElement element)
    {
        Assert.True(ShopifyGid.TryParse(element.GetProperty("admin_graphql_api_id").GetString(), out _, out var id));
        return id;
    }

    [Fact]
    public async Task orders_create_is_signed_and_shaped_like_shopifys()
    {
        await using var h = await StartAsync("signed.myshopify.com");
        await h.SubscribeAsync("ORDERS_CREATE", name: "orders-create");
        var customer = h.Shop.Customers[0];
        var order = h.Shop.PlaceOrder(new NewOrder { Customer = customer, Foreign = true, DiscountPercent = 10, TaxRate = 0.08875m, Shipping = 9.99m });
        Assert.True(order.Id > ShopGenerator.DoublePrecisionLimit, "the round trip below must cover an id a double cannot hold");

        var hook = Assert.Single(await h.NextAsync());
        Assert.Equal("/webhooks", hook.Path);
        Assert.Equal("orders/create", hook.Topic);
        Assert.Equal("signed.myshopify.com", hook.Headers["X-Shopify-Shop-Domain"]);
        Assert.Equal("2026-10", hook.Headers["X-Shopify-API-Version"]);
        Assert.Equal("orders-create", hook.Headers["X-Shopify-Name"]);
        Assert.Equal("application/json", hook.Headers["Content-Type"]);
        Assert.True(Guid.TryParse(hook.WebhookId, out _));
        Assert.True(Guid.TryParse(hook.EventId, out _));
        Assert.Equal(Now, DateTimeOffset.Parse(hook.Headers["X-Shopify-Triggered-At"], CultureInfo.InvariantCulture));
        Assert.True(Verifies(hook, h.State.AppSecret));
        Assert.False(Verifies(hook, h.State.AppSecret + "x"));

        // Real bodies escape every slash, and ids are exact integer literals.
        Assert.Contains($"\"admin_graphql_api_id\":\"gid:\\/\\/shopify\\/Order\\/{order.Id}\"", hook.Text);
        Assert.DoesNotContain("gid://", hook.Text);
        Assert.StartsWith($"{{\"id\":{order.Id},", hook.Text);

        using var json = JsonDocument.Parse(hook.Body);
        var body = json.RootElement;
        HasKeys(OrderKeys, body);
        Assert.Equal(order.Id, body.GetProperty("id").GetInt64());
        Assert.Equal(order.Id, GidNumber(body));
        Assert.Equal(order.Name, body.GetProperty("name").GetString());
        Assert.Equal("2026-03-08T10:15:00-04:00", body.GetProperty("processed_at").GetString());
        Assert.Equal(TimeZoneInfo.ConvertTime(order.CreatedAt, h.Shop.TimeZone), DateTimeOffset.Parse(body.GetProperty("created_at").GetString()!, CultureInfo.InvariantCulture));
        Assert.EndsWith("-04:00", body.GetProperty("updated_at").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("cancelled_at").ValueKind);
        Assert.False(body.GetProperty("test").GetBoolean());
        Assert.Equal("USD", body.GetProperty("currency").GetString());
        Assert.Equal("CAD", body.GetProperty("presentment_currency").GetString());
        Assert.Equal(order.Email, body.GetProperty("email").GetString());
        Assert.Equal(order.CheckoutToken, body.GetProperty("checkout_token").GetString());
        Assert.Equal(Amount(order.TotalPriceSet.ShopAmount), body.GetProperty("total_price").GetString());
        Assert.Equal(Amount(order.TotalTaxSet.ShopAmount), body.GetProperty("total_tax").GetString());
        Assert.Equal(Amount(order.TotalDiscountsSet.ShopAmount), body.GetProperty("total_discounts").GetString());
        var totalSet = body.GetProperty("total_price_set");
        Assert.Equal(Amount(order.TotalPriceSet.ShopAmount), totalSet.GetProperty("shop_money").GetProperty("amount").GetString());
        Assert.Equal("USD", totalSet.GetProperty("shop_money").GetProperty("currency_code").GetString());
        Assert.Equal(Amount(order.TotalPriceSet.PresentmentAmount), totalSet.GetProperty("presentment_money").GetProperty("amount").GetString());
        Assert.Equal("CAD", totalSet.GetProperty("presentment_money").GetProperty("currency_code").GetString());
        Assert.Equal(Amount(order.CurrentTotalPriceSet.ShopAmount), body.GetProperty("current_total_price_set").GetProperty("shop_money").GetProperty("amount").GetString());
        Assert.Equal("9.99", body.GetProperty("total_shipping_price_set").GetProperty("presentment_money").GetProperty("amount").GetString());
        Assert.Equal(Amount(order.TotalTaxSet.ShopAmount), body.GetProperty("total_tax_set").GetProperty("shop_money").GetProperty("amount").GetString());
        Assert.Equal(Amount(order.TotalDiscountsSet.ShopAmount), body.GetProperty("total_discounts_set").GetProperty("shop_money").GetProperty("amount").GetString());

        var bodyCustomer = body.GetProperty("customer");
        HasKeys(OrderCustomerKeys, bodyCustomer);
        Assert.Equal(customer.Id, bodyCustomer.GetProperty("id").GetInt64());
        Assert.Equal(customer.Id, GidNumber(bodyCustomer));
        Assert.Equal(customer.Email, bodyCustomer.GetProperty("email").GetString());
        Assert.Equal(customer.FirstName, bodyCustomer.GetProperty("first_name").GetString());

        var lines = body.GetProperty("line_items").EnumerateArray().ToList();
        Assert.Equal(order.LineItems.Count, lines.Count);
        foreach (var (line, json_) in order.LineItems.Zip(lines))
        {
            HasKeys(LineItemKeys, json_);
            Assert.Equal(line.Id, json_.GetProperty("id").GetInt64());
            Assert.Equal(line.Id, GidNumber(json_));
            Assert.Equal(line.Quantity, json_.GetProperty("quantity").GetInt32());
            Assert.Equal(Amount(line.OriginalUnitPriceSet.ShopAmount), json_.GetProperty("price").GetString());
            Assert.Equal(Amount(line.OriginalUnitPriceSet.PresentmentAmount), json_.GetProperty("price_set").GetProperty("presentment_money").GetProperty("amount").GetString());
            Assert.Equal(line.IsGiftCard, json_.GetProperty("gift_card").GetBoolean());
            Assert.Equal(line.Product?.Id, json_.GetProperty("product_id").ValueKind == JsonValueKind.Null ? null : json_.GetProperty("product_id").GetInt64());
            Assert.Equal(line.Variant?.Id, json_.GetProperty("variant_id").ValueKind == JsonValueKind.Null ? null : json_.GetProperty("variant_id").GetInt64());
            var allocations = json_.GetProperty("discount_allocations").EnumerateArray().ToList();
            Assert.Equal(line.DiscountAllocations.Count, allocations.Count);
            foreach (var (allocation, allocationJson) in line.DiscountAllocations.Zip(allocations))
            {
                Assert.Equal(Amount(allocation.AllocatedAmountSet.ShopAmount), allocationJson.GetProperty("amount").GetString());
                Assert.Equal(Amount(allocation.AllocatedAmountSet.PresentmentAmount), allocationJson.GetProperty("amount_set").GetProperty("presentment_money").GetProperty("amount").GetString());
            }
        }
        var shipping = Assert.Single(body.GetProperty("shipping_lines").EnumerateArray());
        HasKeys(ShippingLineKeys, shipping);
        Assert.Equal(order.ShippingLines[0].Id, shipping.GetProperty("id").GetInt64());
        Assert.Equal(Amount(order.ShippingLines[0].OriginalPriceSet.ShopAmount), shipping.GetProperty("price").GetString());
        Assert.Equal(0, body.GetProperty("refunds").GetArrayLength());

        var delivery = Assert.Single(h.State.WebhookDeliveries);
        Assert.Equal((200, 1, false), (delivery.StatusCode, delivery.Attempt, delivery.Duplicate));
        Assert.Equal(hook.WebhookId, delivery.WebhookId);
        Assert.Equal(hook.Text, delivery.Body);
    }

    [Fact]
    public async Task every_change_raises_the_topics_shopify_sends()
    {
        await using var h = await StartAsync("topics.myshopify.com");
        foreach (var topic in new[] { "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_DELETE", "REFUNDS_CREATE", "CUSTOMERS_CREATE",
                     "CUSTOMERS_UPDATE", "CUSTOMERS_DELETE", "PRODUCTS_UPDATE", "PRODUCTS_DELETE", "CHECKOUTS_CREATE", "CHECKOUTS_UPDATE" })
            await h.SubscribeAsync(topic);
        var shop = h.Shop;

        async Task<List<ReceivedWebhook>> Expect(params string[] topics)
        {
            var hooks = await h.NextAsync();
            Assert.Equal(topics, hooks.Select(x => x.Topic));
            Assert.All(hooks, x => Assert.True(Verifies(x, h.State.AppSecret)));
            return hooks;
        }

        shop.PlaceOrder(new NewOrder());
        var guest = await Expect("orders/create");
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(guest[0].Body).RootElement.GetProperty("customer").ValueKind);

        var customer = shop.Customers[1];
        var variant = shop.Products.First(p => !p.IsGiftCard).Variants[0];
        var order = shop.PlaceOrder(new NewOrder { Customer = customer, Shipping = 5.99m, Lines = [(variant.Id, 3)] });
        var placed = await Expect("orders/create", "customers/update");
        Assert.Equal(customer.Id, JsonDocument.Parse(placed[1].Body).RootElement.GetProperty("id").GetInt64());

        shop.UpdateOrder(order.Id, o => o.Note = "gift wrap");
        var updated = await Expect("orders/updated");
        Assert.Equal("gift wrap", JsonDocument.Parse(updated[0].Body).RootElement.GetProperty("note").GetString());

        var refund = shop.AddRefund(order.Id, quantity: 1, refundShipping: true);
        var refunded = await Expect("refunds/create", "orders/updated");
        var refundBody = JsonDocument.Parse(refunded[0].Body).RootElement;
        HasKeys(RefundKeys, refundBody);
        Assert.Equal(refund.Id, refundBody.GetProperty("id").GetInt64());
        Assert.Equal(refund.Id, GidNumber(refundBody));
        Assert.Equal(order.Id, refundBody.GetProperty("order_id").GetInt64());
        var refundLine = Assert.Single(refundBody.GetProperty("refund_line_items").EnumerateArray());
        HasKeys(RefundLineItemKeys, refundLine);
        Assert.Equal(refund.RefundLineItems[0].Id, refundLine.GetProperty("id").GetInt64());
        Assert.Equal(refund.RefundLineItems[0].LineItem.Id, refundLine.GetProperty("line_item_id").GetInt64());
        Assert.Equal(1, refundLine.GetProperty("quantity").GetInt32());
        Assert.Equal(Amount(refund.RefundLineItems[0].SubtotalSet.ShopAmount), refundLine.GetProperty("subtotal_set").GetProperty("shop_money").GetProperty("amount").GetString());
        Assert.Equal(Amount(refund.RefundLineItems[0].TotalTaxSet.ShopAmount), refundLine.GetProperty("total_tax_set").GetProperty("shop_money").GetProperty("amount").GetString());
        Assert.Equal(JsonValueKind.Number, refundLine.GetProperty("subtotal").ValueKind);
        var refundShipping = Assert.Single(refundBody.GetProperty("refund_shipping_lines").EnumerateArray());
        Assert.Equal(order.ShippingLines[0].Id, refundShipping.GetProperty("shipping_line_id").GetInt64());
        var transaction = Assert.Single(refundBody.GetProperty("transactions").EnumerateArray());
        Assert.Equal(Amount(refund.TotalRefundedSet.PresentmentAmount), transaction.GetProperty("amount").GetString());
        var afterRefund = JsonDocument.Parse(refunded[1].Body).RootElement;
        Assert.Equal(refund.Id, Assert.Single(afterRefund.GetProperty("refunds").EnumerateArray()).GetProperty("id").GetInt64());
        Assert.Equal(Amount(shop.FindOrder(order.Id)!.CurrentTotalPriceSet.ShopAmount), afterRefund.GetProperty("current_total_price").GetString());
        Assert.Equal("partially_refunded", afterRefund.GetProperty("financial_status").GetString());
        // The same refund, written inside the order and on its own, reuses its transaction id.
        Assert.Equal(transaction.GetProperty("id").GetInt64(),
            afterRefund.GetProperty("refunds")[0].GetProperty("transactions")[0].GetProperty("id").GetInt64());

        var second = shop.PlaceOrder(new NewOrder());
        await Expect("orders/create");
        shop.CancelOrder(second.Id);
        var cancelled = await Expect("refunds/create", "orders/cancelled", "orders/updated");
        var cancelledBody = JsonDocument.Parse(cancelled[1].Body).RootElement;
        Assert.EndsWith("-04:00", cancelledBody.GetProperty("cancelled_at").GetString());
        Assert.Equal(shop.FindOrder(second.Id)!.CancelReason!.ToLowerInvariant(), cancelledBody.GetProperty("cancel_reason").GetString());
        Assert.Equal("refunded", cancelledBody.GetProperty("financial_status").GetString());
        Assert.Equal(cancelled[1].Text, cancelled[2].Text);
        Assert.NotEqual(cancelled[1].EventId, cancelled[2].EventId);

        shop.DeleteOrder(second.Id);
        Assert.Equal($"{{\"id\":{second.Id}}}", Assert.Single(await Expect("orders/delete")).Text);

        var added = shop.AddCustomer(c => c.Note = "likes/dislikes");
        var created = JsonDocument.Parse((await Expect("customers/create"))[0].Body).RootElement;
        HasKeys(CustomerKeys, created);
        Assert.Equal(added.Id, created.GetProperty("id").GetInt64());
        Assert.Equal("likes/dislikes", created.GetProperty("note").GetString());
        shop.UpdateCustomer(added.Id, c => c.LastName = "Renamed");
        Assert.Equal("Renamed", JsonDocument.Parse((await Expect("customers/update"))[0].Body).RootElement.GetProperty("last_name").GetString());
        shop.DeleteCustomer(added.Id);
        var deletedCustomer = JsonDocument.Parse((await Expect("customers/delete"))[0].Body).RootElement;
        Assert.Equal(added.Id, deletedCustomer.GetProperty("id").GetInt64());
        Assert.Equal(added.Id, GidNumber(deletedCustomer));

        var product = shop.Products[0];
        shop.UpdateProduct(product.Id, p => p.Title = "Renamed product");
        var productBody = JsonDocument.Parse((await Expect("products/update"))[0].Body).RootElement;
        HasKeys(ProductKeys, productBody);
        HasKeys(VariantKeys, productBody.GetProperty("variants")[0]);
        Assert.Equal(product.Id, productBody.GetProperty("id").GetInt64());
        Assert.Equal("Renamed product", productBody.GetProperty("title").GetString());
        Assert.Equal(product.Variants.Select(v => v.Id), productBody.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("id").GetInt64()));
        shop.DeleteProduct(product.Id);
        Assert.Equal($"{{\"id\":{product.Id}}}", Assert.Single(await Expect("products/delete")).Text);

        var checkout = shop.AddAbandonedCheckout(customer.Id);
        var checkoutBody = JsonDocument.Parse((await Expect("checkouts/create"))[0].Body).RootElement;
        HasKeys(CheckoutKeys, checkoutBody);
        HasKeys(CheckoutLineKeys, checkoutBody.GetProperty("line_items")[0]);
        Assert.Equal(checkout.Id, checkoutBody.GetProperty("id").GetInt64());
        Assert.Equal(checkout.Token, checkoutBody.GetProperty("token").GetString());
        Assert.Equal(JsonValueKind.Null, checkoutBody.GetProperty("completed_at").ValueKind);
        Assert.Equal(customer.Id, checkoutBody.GetProperty("customer").GetProperty("id").GetInt64());
        Assert.Equal(Amount(checkout.TotalPriceSet.ShopAmount), checkoutBody.GetProperty("total_price").GetString());

        shop.CompleteAbandonedCheckout(checkout.Id);
        var completed = await Expect("checkouts/update", "orders/create");
        Assert.EndsWith("-04:00", JsonDocument.Parse(completed[0].Body).RootElement.GetProperty("completed_at").GetString());
        Assert.Equal(checkout.Token, JsonDocument.Parse(completed[1].Body).RootElement.GetProperty("checkout_token").GetString());
    }

    [Fact]
    public async Task failed_deliveries_are_retried_with_the_same_ids_and_then_given_up()
    {
        await using var h = await StartAsync("retries.myshopify.com");
        await h.SubscribeAsync("ORDERS_UPDATED");
        h.State.Webhooks.RetryDelay = TimeSpan.FromMilliseconds(10);
        h.Receiver.AnswerNext(500, 503);
        var order = h.Shop.Orders[^1];
        h.Shop.UpdateOrder(order.Id, o => o.Note = "retry me");

        var hooks = await h.NextAsync();
        Assert.Equal(3, hooks.Count);
        Assert.Single(hooks.Select(x => x.WebhookId).Distinct());
        Assert.Single(hooks.Select(x => x.EventId).Distinct());
        Assert.Single(hooks.Select(x => x.Text).Distinct());
        var deliveries = h.State.WebhookDeliveries;
        Assert.Equal([500, 503, 200], deliveries.Select(d => d.StatusCode ?? 0));
        Assert.Equal([1, 2, 3], deliveries.Select(d => d.Attempt));

        // A receiver that is gone: every attempt fails without a status, and the flush still ends.
        var gone = await WebhookReceiver.StartAsync();
        var goneUrl = gone.Url("/gone");
        await gone.DisposeAsync();
        h.State.Webhooks.ClearDeliveries();
        h.State.Webhooks.MaxAttempts = 2;
        await h.Api.DataAsync("mutation($sub: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: ORDERS_DELETE, webhookSubscription: $sub) { userErrors { message } } }",
            new { sub = new { callbackUrl = goneUrl } });
        h.Shop.DeleteOrder(order.Id);
        await h.NextAsync();
        var failed = h.State.WebhookDeliveries;
        Assert.Equal(2, failed.Count);
        Assert.All(failed, d => Assert.Null(d.StatusCode));
        Assert.All(failed, d => Assert.NotNull(d.Error));
        Assert.All(failed, d => Assert.Equal("orders/delete", d.Topic));
    }

    [Fact]
    public async Task duplicates_repeat_the_webhook_and_event_ids_and_each_subscription_gets_its_own_webhook_id()
    {
        await using var h = await StartAsync("duplicates.myshopify.com");
        await h.SubscribeAsync("ORDERS_UPDATED", "/a");
        await h.SubscribeAsync("ORDERS_UPDATED", "/b");
        h.State.Webhooks.DuplicateProbability = 1;
        h.Shop.UpdateOrder(h.Shop.Orders[0].Id, o => o.Note = "once");

        var hooks = await h.NextAsync();
        Assert.Equal(4, hooks.Count);
        Assert.Single(hooks.Select(x => x.EventId).Distinct());
        var byWebhook = hooks.GroupBy(x => x.WebhookId).ToList();
        Assert.Equal(2, byWebhook.Count);
        Assert.All(byWebhook, g => Assert.Equal(2, g.Count()));
        Assert.All(byWebhook, g => Assert.Single(g.Select(x => x.Path).Distinct()));
        Assert.All(hooks, x => Assert.True(Verifies(x, h.State.AppSecret)));
        Assert.Equal(2, h.State.WebhookDeliveries.Count(d => d.Duplicate));
    }

    [Fact]
    public async Task out_of_order_swaps_each_delivery_with_the_next_and_a_flush_releases_the_last()
    {
        await using var h = await StartAsync("order.myshopify.com");
        await h.SubscribeAsync("ORDERS_UPDATED");
        h.State.Webhooks.OutOfOrder = true;
        var id = h.Shop.Orders[0].Id;
        foreach (var note in new[] { "1", "2", "3", "4", "5" })
        {
            h.Clock.Now = h.Clock.Now.AddMinutes(1);
            h.Shop.UpdateOrder(id, o => o.Note = note);
        }

        var hooks = await h.NextAsync();
        var bodies = hooks.Select(x => JsonDocument.Parse(x.Body).RootElement).ToList();
        Assert.Equal(["2", "1", "4", "3", "5"], bodies.Select(b => b.GetProperty("note").GetString()));
        // What a receiver must cope with: an older updated_at arriving after a newer one.
        var updatedAt = bodies.Select(b => DateTimeOffset.Parse(b.GetProperty("updated_at").GetString()!, CultureInfo.InvariantCulture)).ToList();
        Assert.True(updatedAt[1] < updatedAt[0]);
        Assert.Equal(5, hooks.Select(x => x.EventId).Distinct().Count());
    }

    [Fact]
    public async Task after_a_rotation_a_delivery_can_be_signed_with_the_previous_secret()
    {
        await using var h = await StartAsync("rotate.myshopify.com");
        await h.SubscribeAsync("CUSTOMERS_UPDATE");
        h.State.AppSecret = "old-secret";
        h.State.Webhooks.RotateAppSecret("new-secret");
        Assert.Equal("old-secret", h.State.Webhooks.PreviousAppSecret);
        h.State.Webhooks.SignWithPreviousSecret(1);
        var customer = h.Shop.Customers[0];
        h.Shop.UpdateCustomer(customer.Id, c => c.Note = "first");
        h.Shop.UpdateCustomer(customer.Id, c => c.Note = "second");

        var hooks = await h.NextAsync();
        Assert.Equal(2, hooks.Count);
        Assert.True(Verifies(hooks[0], "old-secret"));
        Assert.False(Verifies(hooks[0], "new-secret"));
        Assert.True(Verifies(hooks[1], "new-secret"));
        Assert.Equal([true, false], h.State.WebhookDeliveries.Select(d => d.SignedWithPreviousSecret));
        Assert.Equal(WebhookEmitter.Sign(hooks[1].Body, "new-secret"), hooks[1].Headers["X-Shopify-Hmac-Sha256"]);
    }

    [Fact]
    public async Task app_and_privacy_topics_go_to_the_app_uri_or_else_to_every_callback_url()
    {
        await using var h = await StartAsync("privacy.myshopify.com", orders: 80);
        await h.SubscribeAsync("ORDERS_CREATE", "/a");
        await h.SubscribeAsync("ORDERS_UPDATED", "/b");
        await h.SubscribeAsync("ORDERS_DELETE", "/b");
        var domain = h.Shop.MyshopifyDomain;

        h.State.EmitShopRedact(domain);
        var redacts = await h.NextAsync();
        Assert.Equal(["/a", "/b"], redacts.Select(x => x.Path).Order());
        Assert.All(redacts, x => Assert.Equal("shop/redact", x.Topic));
        Assert.Single(redacts.Select(x => x.EventId).Distinct());
        Assert.Equal($"{{\"shop_id\":{h.Shop.Id},\"shop_domain\":\"{domain}\"}}", redacts[0].Text);

        h.State.Webhooks.AppWebhookUri = h.Receiver.Url("/app");
        var customer = h.Shop.Customers.First(c => h.Shop.Orders.Any(o => o.Customer == c));
        h.State.EmitCustomersRedact(domain, customer.Id);
        var redact = Assert.Single(await h.NextAsync());
        Assert.Equal(("/app", "customers/redact"), (redact.Path, redact.Topic));
        Assert.True(Verifies(redact, h.State.AppSecret));
        var redactBody = JsonDocument.Parse(redact.Body).RootElement;
        Assert.Equal(h.Shop.Id, redactBody.GetProperty("shop_id").GetInt64());
        Assert.Equal(customer.Id, redactBody.GetProperty("customer").GetProperty("id").GetInt64());
        Assert.Equal(customer.Email, redactBody.GetProperty("customer").GetProperty("email").GetString());
        Assert.Equal(h.Shop.Orders.Where(o => o.Customer == customer).Select(o => o.Id).Order(),
            redactBody.GetProperty("orders_to_redact").EnumerateArray().Select(e => e.GetInt64()).Order());

        h.State.EmitCustomersDataRequest(domain, customer.Id, ordersRequested: [1, 2], dataRequestId: 9999);
        var request = Assert.Single(await h.NextAsync());
        Assert.Equal("customers/data_request", request.Topic);
        Assert.Contains("\"orders_requested\":[1,2],\"data_request\":{\"id\":9999}", request.Text);

        h.State.EmitAppUninstalled(domain);
        var uninstalled = Assert.Single(await h.NextAsync());
        Assert.Equal(("/app", "app/uninstalled"), (uninstalled.Path, uninstalled.Topic));
        var shopBody = JsonDocument.Parse(uninstalled.Body).RootElement;
        Assert.Equal(h.Shop.Id, shopBody.GetProperty("id").GetInt64());
        Assert.Equal(domain, shopBody.GetProperty("myshopify_domain").GetString());
        Assert.Equal("America/New_York", shopBody.GetProperty("iana_timezone").GetString());

        await h.SubscribeAsync("APP_UNINSTALLED", "/uninstalled");
        h.State.EmitAppUninstalled(domain);
        Assert.Equal("/uninstalled", Assert.Single(await h.NextAsync()).Path);
    }
}
