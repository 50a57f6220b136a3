using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>
/// REST-shaped webhook bodies, field for field after the docs samples in shared/fixtures/shopify.
/// Fields the model has no data for are written with the neutral value the samples show (null, [] or
/// false), so a consumer's deserializer sees every key it would see from Shopify.
/// The caller holds the shop's gate: a body is a snapshot of one moment.
/// </summary>
internal static class WebhookBodies
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Relaxed so that names like "Zoë" go out as UTF-8, as Shopify's do; slashes are escaped afterwards.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static byte[] Order(Shop shop, Order order) => Write(w => WriteOrder(w, shop, order));

    public static byte[] Refund(Shop shop, Refund refund) => Write(w => WriteRefund(w, shop, refund));

    public static byte[] Customer(Shop shop, Customer customer) => Write(w => WriteCustomer(w, shop, customer, withAddresses: true));

    public static byte[] CustomerDeleted(Customer customer) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("id", customer.Id);
        w.WriteStartArray("tax_exemptions");
        w.WriteEndArray();
        w.WriteString("admin_graphql_api_id", customer.Gid);
        w.WriteEndObject();
    });

    /// <summary>orders/delete and products/delete carry only the id.</summary>
    public static byte[] IdOnly(long id) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("id", id);
        w.WriteEndObject();
    });

    public static byte[] Product(Shop shop, Product product) => Write(w => WriteProduct(w, shop, product));

    public static byte[] Checkout(Shop shop, AbandonedCheckout checkout) => Write(w => WriteCheckout(w, shop, checkout));

    public static byte[] ShopResource(Shop shop) => Write(w => WriteShop(w, shop));

    public static byte[] CustomersRedact(Shop shop, PrivacyCustomer customer, IReadOnlyList<long> orders) => Write(w =>
    {
        WritePrivacyHead(w, shop, customer);
        WriteIds(w, "orders_to_redact", orders);
        w.WriteEndObject();
    });

    public static byte[] CustomersDataRequest(Shop shop, PrivacyCustomer customer, IReadOnlyList<long> orders, long dataRequestId) => Write(w =>
    {
        WritePrivacyHead(w, shop, customer);
        WriteIds(w, "orders_requested", orders);
        w.WriteStartObject("data_request");
        w.WriteNumber("id", dataRequestId);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary>bulk_operations/finish, shaped like webhook-bulk-operations-finish.json: status, type and error code in lower case.</summary>
    public static byte[] BulkOperationFinish(Shop shop, BulkOperation operation) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("admin_graphql_api_id", operation.Gid);
        Time(w, shop, "completed_at", operation.CompletedAt);
        Time(w, shop, "created_at", operation.CreatedAt);
        w.WriteString("error_code", operation.ErrorCode?.ToLowerInvariant());
        w.WriteString("status", operation.Status.ToLowerInvariant());
        w.WriteString("type", operation.Type.ToLowerInvariant());
        w.WriteEndObject();
    });

    public static byte[] ShopRedact(Shop shop) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("shop_id", shop.Id);
        w.WriteString("shop_domain", shop.MyshopifyDomain);
        w.WriteEndObject();
    });

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
            write(writer);
        return EscapeSlashes(buffer.ToArray());
    }

    /// <summary>
    /// Shopify's encoder writes "\/" for every "/", and HMACs are over those exact bytes. A '/' byte can only
    /// occur inside a JSON string (it is no structural character and UTF-8 continuation bytes are ≥ 0x80),
    /// so escaping every one of them is safe.
    /// </summary>
    private static byte[] EscapeSlashes(byte[] json) => json.AsSpan().Contains((byte)'/') ? EscapeSlashes(json.AsSpan()) : json;

    /// <summary>A new array with every "/" of <paramref name="json"/> written "\/" (bulk JSONL lines are escaped alike).</summary>
    internal static byte[] EscapeSlashes(ReadOnlySpan<byte> json)
    {
        var escaped = new byte[json.Length + json.Count((byte)'/')];
        var at = 0;
        foreach (var b in json)
        {
            if (b == (byte)'/')
                escaped[at++] = (byte)'\\';
            escaped[at++] = b;
        }
        return escaped;
    }

    private static void WriteOrder(Utf8JsonWriter w, Shop shop, Order order)
    {
        w.WriteStartObject();
        w.WriteNumber("id", order.Id);
        w.WriteString("admin_graphql_api_id", order.Gid);
        w.WriteNull("app_id");
        w.WriteNull("browser_ip");
        w.WriteBoolean("buyer_accepts_marketing", false);
        w.WriteString("cancel_reason", order.CancelReason?.ToLowerInvariant());
        Time(w, shop, "cancelled_at", order.CancelledAt);
        w.WriteNull("cart_token");
        w.WriteString("checkout_token", order.CheckoutToken);
        w.WriteNull("client_details");
        Time(w, shop, "closed_at", order.ClosedAt is { } closed && closed <= shop.Now ? closed : null);
        w.WriteNull("confirmation_number");
        w.WriteBoolean("confirmed", order.Confirmed);
        w.WriteString("contact_email", order.Email);
        Time(w, shop, "created_at", order.CreatedAt);
        w.WriteString("currency", order.CurrencyCode);
        Set(w, "current_shipping_price_set", order.CurrentShippingPriceSet);
        Money(w, "current_subtotal_price", order.CurrentSubtotalPriceSet, withSet: true);
        w.WriteNull("current_total_additional_fees_set");
        Money(w, "current_total_discounts", order.CurrentTotalDiscountsSet, withSet: true);
        w.WriteNull("current_total_duties_set");
        Money(w, "current_total_price", order.CurrentTotalPriceSet, withSet: true);
        Money(w, "current_total_tax", order.CurrentTotalTaxSet, withSet: true);
        w.WriteString("customer_locale", order.Customer?.Locale ?? "en");
        w.WriteNull("device_id");
        w.WriteStartArray("discount_codes");
        foreach (var application in DiscountApplications(order))
        {
            w.WriteStartObject();
            w.WriteString("code", application.Code);
            w.WriteString("amount", Amount(order.TotalDiscountsSet.ShopAmount));
            w.WriteString("type", "percentage");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteBoolean("duties_included", false);
        w.WriteString("email", order.Email);
        w.WriteBoolean("estimated_taxes", false);
        w.WriteString("financial_status", order.DisplayFinancialStatus.ToLowerInvariant());
        w.WriteString("fulfillment_status", order.DisplayFulfillmentStatus == "FULFILLED" ? "fulfilled" : null);
        w.WriteNull("landing_site");
        w.WriteNull("landing_site_ref");
        w.WriteNull("location_id");
        w.WriteNull("merchant_business_entity_id");
        w.WriteNull("merchant_of_record_app_id");
        w.WriteString("name", order.Name);
        w.WriteString("note", order.Note);
        w.WriteStartArray("note_attributes");
        w.WriteEndArray();
        // REST's number is the order number less the shop's 1000 offset.
        w.WriteNumber("number", order.Number - 1000);
        w.WriteNumber("order_number", order.Number);
        w.WriteString("order_status_url", $"https://{shop.MyshopifyDomain}/{shop.Id.ToString(CultureInfo.InvariantCulture)}/orders/{order.CheckoutToken}/authenticate?key={order.CheckoutToken}");
        w.WriteNull("original_total_additional_fees_set");
        w.WriteNull("original_total_duties_set");
        w.WriteStartArray("payment_gateway_names");
        w.WriteStringValue(order.SourceName == "pos" ? "cash" : "shopify_payments");
        w.WriteEndArray();
        w.WriteString("phone", order.Phone);
        w.WriteNull("po_number");
        w.WriteString("presentment_currency", order.PresentmentCurrencyCode);
        Time(w, shop, "processed_at", order.ProcessedAt);
        w.WriteNull("reference");
        w.WriteNull("referring_site");
        w.WriteNull("source_identifier");
        w.WriteString("source_name", order.SourceName);
        w.WriteNull("source_url");
        Money(w, "subtotal_price", order.SubtotalPriceSet, withSet: true);
        w.WriteString("tags", string.Join(", ", order.Tags));
        w.WriteBoolean("tax_exempt", order.Customer?.TaxExempt ?? false);
        TaxLines(w, order.TaxLines);
        w.WriteBoolean("taxes_included", order.TaxesIncluded);
        w.WriteBoolean("test", order.Test);
        w.WriteString("token", order.CheckoutToken);
        Set(w, "total_cash_rounding_payment_adjustment_set", order.Zero);
        Set(w, "total_cash_rounding_refund_adjustment_set", order.Zero);
        Money(w, "total_discounts", order.TotalDiscountsSet, withSet: true);
        Money(w, "total_line_items_price", order.TotalLineItemsPriceSet, withSet: true);
        w.WriteString("total_outstanding", Amount(order.TotalOutstandingSet.ShopAmount));
        Money(w, "total_price", order.TotalPriceSet, withSet: true);
        Set(w, "total_shipping_price_set", order.TotalShippingPriceSet);
        Money(w, "total_tax", order.TotalTaxSet, withSet: true);
        w.WriteString("total_tip_received", "0.00");
        w.WriteNumber("total_weight", 0);
        Time(w, shop, "updated_at", order.UpdatedAt);
        w.WriteNull("user_id");
        w.WriteNull("billing_address");
        if (order.Customer is { } customer)
        {
            w.WritePropertyName("customer");
            WriteCustomer(w, shop, customer, withAddresses: false);
        }
        else
            w.WriteNull("customer");
        w.WriteStartArray("discount_applications");
        foreach (var application in DiscountApplications(order))
        {
            w.WriteStartObject();
            w.WriteString("target_type", "line_item");
            w.WriteString("type", "discount_code");
            w.WriteString("value", Amount(application.Value.Percentage).Replace(".00", ".0", StringComparison.Ordinal));
            w.WriteString("value_type", "percentage");
            w.WriteString("allocation_method", "across");
            w.WriteString("target_selection", "all");
            w.WriteString("code", application.Code);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("fulfillments");
        w.WriteEndArray();
        w.WriteStartArray("line_items");
        foreach (var line in order.LineItems)
            WriteLineItem(w, line);
        w.WriteEndArray();
        w.WriteNull("payment_terms");
        w.WriteStartArray("refunds");
        foreach (var refund in order.Refunds)
            WriteRefund(w, shop, refund);
        w.WriteEndArray();
        w.WriteNull("shipping_address");
        w.WriteStartArray("shipping_lines");
        foreach (var shipping in order.ShippingLines)
            WriteShippingLine(w, shipping);
        w.WriteEndArray();
        w.WriteStartArray("returns");
        w.WriteEndArray();
        w.WriteStartArray("line_item_groups");
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static List<DiscountCodeApplication> DiscountApplications(Order order) =>
        order.LineItems.SelectMany(l => l.DiscountAllocations).Select(d => d.DiscountApplication)
            .DistinctBy(a => a.Code).ToList();

    private static void WriteLineItem(Utf8JsonWriter w, LineItem line)
    {
        w.WriteStartObject();
        w.WriteNumber("id", line.Id);
        w.WriteString("admin_graphql_api_id", line.Gid);
        w.WriteStartArray("attributed_staffs");
        w.WriteEndArray();
        w.WriteNumber("current_quantity", line.CurrentQuantity);
        w.WriteNumber("fulfillable_quantity", line.FulfillableQuantity);
        w.WriteString("fulfillment_service", "manual");
        w.WriteString("fulfillment_status", line.Order.DisplayFulfillmentStatus == "FULFILLED" ? "fulfilled" : null);
        w.WriteBoolean("gift_card", line.IsGiftCard);
        w.WriteNumber("grams", 0);
        w.WriteString("name", line.Name);
        Money(w, "price", line.OriginalUnitPriceSet, withSet: true);
        w.WriteBoolean("product_exists", line.Product is not null);
        NullableId(w, "product_id", line.Product?.Id);
        w.WriteStartArray("properties");
        w.WriteEndArray();
        w.WriteNumber("quantity", line.Quantity);
        w.WriteBoolean("requires_shipping", line.RequiresShipping);
        w.WriteNull("sales_line_item_group_id");
        w.WriteString("sku", line.Sku);
        w.WriteBoolean("taxable", line.Taxable);
        w.WriteString("title", line.Title);
        Money(w, "total_discount", line.TotalDiscountSet, withSet: true);
        NullableId(w, "variant_id", line.Variant?.Id);
        w.WriteString("variant_inventory_management", line.Variant is null ? null : "shopify");
        w.WriteString("variant_title", line.VariantTitle);
        w.WriteString("vendor", line.Vendor);
        TaxLines(w, line.TaxLines);
        w.WriteStartArray("duties");
        w.WriteEndArray();
        w.WriteStartArray("discount_allocations");
        foreach (var allocation in line.DiscountAllocations)
        {
            w.WriteStartObject();
            Money(w, "amount", allocation.AllocatedAmountSet, withSet: true);
            w.WriteNumber("discount_application_index", 0);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteShippingLine(Utf8JsonWriter w, ShippingLine shipping)
    {
        w.WriteStartObject();
        w.WriteNumber("id", shipping.Id);
        w.WriteString("carrier_identifier", shipping.CarrierIdentifier);
        w.WriteString("code", shipping.Code);
        Set(w, "current_discounted_price_set", shipping.CurrentDiscountedPriceSet);
        Money(w, "discounted_price", shipping.DiscountedPriceSet, withSet: true);
        w.WriteBoolean("is_removed", shipping.IsRemoved);
        w.WriteNull("phone");
        Money(w, "price", shipping.OriginalPriceSet, withSet: true);
        w.WriteNull("requested_fulfillment_service_id");
        w.WriteString("source", shipping.Source);
        w.WriteString("title", shipping.Title);
        TaxLines(w, shipping.TaxLines);
        w.WriteStartArray("discount_allocations");
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void TaxLines(Utf8JsonWriter w, IEnumerable<TaxLine> taxLines)
    {
        w.WriteStartArray("tax_lines");
        foreach (var tax in taxLines)
        {
            w.WriteStartObject();
            w.WriteBoolean("channel_liable", tax.ChannelLiable);
            Money(w, "price", tax.PriceSet, withSet: true);
            w.WriteNumber("rate", tax.Rate);
            w.WriteString("title", tax.Title);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteRefund(Utf8JsonWriter w, Shop shop, Refund refund)
    {
        var order = refund.Order;
        w.WriteStartObject();
        w.WriteNumber("id", refund.Id);
        w.WriteNumber("order_id", order.Id);
        Time(w, shop, "created_at", refund.CreatedAt);
        w.WriteString("note", refund.Note);
        w.WriteNull("user_id");
        Time(w, shop, "processed_at", refund.ProcessedAt);
        w.WriteStartArray("duties");
        w.WriteEndArray();
        Set(w, "total_duties_set", order.Zero);
        w.WriteNull("return");
        w.WriteBoolean("restock", refund.RefundLineItems.Any(r => r.Restocked));
        w.WriteStartArray("refund_shipping_lines");
        foreach (var shipping in refund.RefundShippingLines)
        {
            w.WriteStartObject();
            w.WriteNumber("id", shipping.Id);
            w.WriteNumber("shipping_line_id", shipping.ShippingLine.Id);
            Set(w, "subtotal_amount_set", shipping.SubtotalAmountSet);
            Set(w, "tax_amount_set", shipping.TaxAmountSet);
            w.WritePropertyName("shipping_line");
            WriteShippingLine(w, shipping.ShippingLine);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("admin_graphql_api_id", refund.Gid);
        w.WriteStartArray("order_adjustments");
        w.WriteEndArray();
        w.WriteStartArray("refund_line_items");
        foreach (var item in refund.RefundLineItems)
        {
            w.WriteStartObject();
            w.WriteNumber("id", item.Id);
            w.WriteNumber("quantity", item.Quantity);
            w.WriteNumber("line_item_id", item.LineItem.Id);
            w.WriteNull("location_id");
            w.WriteString("restock_type", item.RestockType.ToLowerInvariant());
            // Shopify writes these two as JSON numbers (Ruby floats), unlike every other amount.
            w.WriteNumber("subtotal", (double)item.Subtotal);
            w.WriteNumber("total_tax", (double)item.TotalTax);
            Set(w, "subtotal_set", item.SubtotalSet);
            Set(w, "total_tax_set", item.TotalTaxSet);
            w.WritePropertyName("line_item");
            WriteLineItem(w, item.LineItem);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("transactions");
        w.WriteStartObject();
        var transactionId = shop.TransactionIdOf(refund);
        w.WriteNumber("id", transactionId);
        w.WriteNumber("order_id", order.Id);
        w.WriteString("kind", "refund");
        w.WriteString("gateway", order.SourceName == "pos" ? "cash" : "shopify_payments");
        w.WriteString("status", "success");
        w.WriteNull("message");
        Time(w, shop, "created_at", refund.CreatedAt);
        w.WriteBoolean("test", order.Test);
        w.WriteNull("authorization");
        w.WriteNull("location_id");
        w.WriteNull("user_id");
        w.WriteNull("parent_id");
        Time(w, shop, "processed_at", refund.ProcessedAt);
        w.WriteNull("device_id");
        w.WriteNull("error_code");
        w.WriteString("source_name", order.SourceName);
        w.WriteStartObject("receipt");
        w.WriteEndObject();
        // Transactions are charged in the presentment currency.
        w.WriteString("amount", Amount(refund.TotalRefundedSet.PresentmentAmount));
        w.WriteString("currency", order.PresentmentCurrencyCode);
        w.WriteNull("payment_id");
        w.WriteBoolean("manual_payment_gateway", false);
        w.WriteNull("amount_rounding");
        w.WriteString("admin_graphql_api_id", ShopifyGid.Format("OrderTransaction", transactionId));
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteCustomer(Utf8JsonWriter w, Shop shop, Customer customer, bool withAddresses)
    {
        w.WriteStartObject();
        w.WriteNumber("id", customer.Id);
        Time(w, shop, "created_at", customer.CreatedAt);
        Time(w, shop, "updated_at", customer.UpdatedAt);
        w.WriteString("first_name", customer.FirstName);
        w.WriteString("last_name", customer.LastName);
        w.WriteString("state", customer.State.ToLowerInvariant());
        w.WriteString("note", customer.Note);
        w.WriteBoolean("verified_email", customer.VerifiedEmail);
        w.WriteNull("multipass_identifier");
        w.WriteBoolean("tax_exempt", customer.TaxExempt);
        w.WriteString("email", customer.Email);
        w.WriteString("phone", customer.Phone);
        w.WriteString("currency", shop.CurrencyCode);
        if (withAddresses)
        {
            w.WriteStartArray("addresses");
            w.WriteEndArray();
        }
        w.WriteStartArray("tax_exemptions");
        w.WriteEndArray();
        w.WriteString("admin_graphql_api_id", customer.Gid);
        w.WriteNull("default_address");
        w.WriteEndObject();
    }

    private static void WriteProduct(Utf8JsonWriter w, Shop shop, Product product)
    {
        w.WriteStartObject();
        w.WriteString("admin_graphql_api_id", product.Gid);
        w.WriteString("body_html", product.DescriptionHtml);
        Time(w, shop, "created_at", product.CreatedAt);
        w.WriteString("handle", product.Handle);
        w.WriteNumber("id", product.Id);
        w.WriteString("product_type", product.ProductType);
        Time(w, shop, "published_at", product.PublishedAt);
        w.WriteNull("template_suffix");
        w.WriteString("title", product.Title);
        Time(w, shop, "updated_at", product.UpdatedAt);
        w.WriteString("vendor", product.Vendor);
        w.WriteString("status", product.Status.ToLowerInvariant());
        w.WriteString("published_scope", "web");
        w.WriteString("tags", string.Join(", ", product.Tags));
        w.WriteStartArray("variants");
        foreach (var variant in product.Variants)
        {
            w.WriteStartObject();
            w.WriteString("admin_graphql_api_id", variant.Gid);
            w.WriteString("barcode", variant.Barcode);
            w.WriteString("compare_at_price", variant.CompareAtPrice is { } compare ? Amount(compare) : null);
            Time(w, shop, "created_at", variant.CreatedAt);
            w.WriteNumber("id", variant.Id);
            w.WriteString("inventory_policy", variant.InventoryPolicy.ToLowerInvariant());
            w.WriteNumber("position", variant.Position);
            w.WriteString("price", Amount(variant.Price));
            w.WriteNumber("product_id", product.Id);
            w.WriteString("sku", variant.Sku);
            w.WriteBoolean("taxable", variant.Taxable);
            w.WriteString("title", variant.Title);
            Time(w, shop, "updated_at", variant.UpdatedAt);
            w.WriteString("option1", variant.Title);
            w.WriteNull("option2");
            w.WriteNull("option3");
            w.WriteNull("image_id");
            w.WriteNull("inventory_item_id");
            NullableNumber(w, "inventory_quantity", variant.InventoryQuantity);
            NullableNumber(w, "old_inventory_quantity", variant.InventoryQuantity);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("options");
        w.WriteEndArray();
        w.WriteStartArray("images");
        w.WriteEndArray();
        w.WriteNull("image");
        w.WriteStartArray("media");
        w.WriteEndArray();
        w.WriteStartArray("variant_gids");
        foreach (var variant in product.Variants.OrderByDescending(v => v.UpdatedAt))
        {
            w.WriteStartObject();
            w.WriteString("admin_graphql_api_id", variant.Gid);
            // The one UTC timestamp in these bodies, with milliseconds, as the docs sample has it.
            w.WriteString("updated_at", variant.UpdatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteBoolean("has_variants_that_requires_components", false);
        w.WriteNull("category");
        w.WriteEndObject();
    }

    private static void WriteCheckout(Utf8JsonWriter w, Shop shop, AbandonedCheckout checkout)
    {
        w.WriteStartObject();
        // The docs sample lacks the id; real checkout payloads have it (see SOURCES.md, problem 4).
        w.WriteNumber("id", checkout.Id);
        w.WriteString("token", checkout.Token);
        w.WriteNull("cart_token");
        w.WriteString("email", checkout.Customer?.Email);
        w.WriteNull("gateway");
        w.WriteBoolean("buyer_accepts_marketing", false);
        Time(w, shop, "created_at", checkout.CreatedAt);
        Time(w, shop, "updated_at", checkout.UpdatedAt);
        w.WriteNull("landing_site");
        w.WriteString("note", checkout.Note.Length == 0 ? null : checkout.Note);
        w.WriteStartArray("note_attributes");
        w.WriteEndArray();
        w.WriteNull("referring_site");
        w.WriteStartArray("shipping_lines");
        w.WriteEndArray();
        w.WriteBoolean("taxes_included", checkout.TaxesIncluded);
        w.WriteNumber("total_weight", 0);
        w.WriteString("currency", checkout.CurrencyCode);
        Time(w, shop, "completed_at", checkout.CompletedAt);
        w.WriteNull("closed_at");
        w.WriteNull("user_id");
        w.WriteNull("location_id");
        w.WriteNull("source_identifier");
        w.WriteNull("source_url");
        w.WriteNull("device_id");
        w.WriteString("phone", checkout.Customer?.Phone);
        w.WriteString("customer_locale", checkout.Customer?.Locale);
        w.WriteStartArray("line_items");
        foreach (var line in checkout.LineItems)
        {
            w.WriteStartObject();
            w.WriteStartArray("applied_discounts");
            w.WriteEndArray();
            w.WriteStartArray("discount_allocations");
            w.WriteEndArray();
            w.WriteString("key", line.Id.ToString("x", CultureInfo.InvariantCulture));
            w.WriteNull("destination_location_id");
            w.WriteNull("origin_location_id");
            w.WriteString("fulfillment_service", "manual");
            w.WriteBoolean("gift_card", line.Product?.IsGiftCard ?? false);
            w.WriteNumber("grams", 0);
            w.WriteString("presentment_title", line.Title);
            w.WriteString("presentment_variant_title", line.VariantTitle);
            NullableId(w, "product_id", line.Product?.Id);
            w.WriteNull("properties");
            w.WriteNumber("quantity", line.Quantity);
            w.WriteBoolean("requires_shipping", !(line.Product?.IsGiftCard ?? false));
            w.WriteString("sku", line.Sku);
            w.WriteStartArray("tax_lines");
            w.WriteEndArray();
            w.WriteBoolean("taxable", line.Variant?.Taxable ?? true);
            w.WriteString("title", line.Title);
            NullableId(w, "variant_id", line.Variant?.Id);
            w.WriteString("variant_title", line.VariantTitle);
            w.WriteString("variant_price", Amount(line.OriginalUnitPriceSet.ShopAmount));
            w.WriteString("vendor", line.Product?.Vendor);
            w.WriteNull("user_id");
            w.WriteStartObject("unit_price_measurement");
            foreach (var field in new[] { "measured_type", "quantity_value", "quantity_unit", "reference_value", "reference_unit" })
                w.WriteNull(field);
            w.WriteEndObject();
            w.WriteNull("rank");
            w.WriteString("compare_at_price", line.Variant?.CompareAtPrice is { } compare ? Amount(compare) : null);
            w.WriteString("line_price", Amount(line.OriginalTotalPriceSet.ShopAmount));
            w.WriteString("price", Amount(line.OriginalUnitPriceSet.ShopAmount));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("name", checkout.Name);
        w.WriteNull("source");
        w.WriteString("abandoned_checkout_url", checkout.AbandonedCheckoutUrl);
        w.WriteStartArray("discount_codes");
        w.WriteEndArray();
        w.WriteStartArray("tax_lines");
        if (checkout.TotalTaxSet.ShopAmount != 0)
        {
            w.WriteStartObject();
            w.WriteString("price", Amount(checkout.TotalTaxSet.ShopAmount));
            w.WriteNumber("rate", 0.08875);
            w.WriteString("title", "NY State Tax");
            w.WriteBoolean("channel_liable", false);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("source_name", "web");
        w.WriteString("presentment_currency", checkout.PresentmentCurrencyCode);
        w.WriteBoolean("buyer_accepts_sms_marketing", false);
        w.WriteNull("sms_marketing_phone");
        w.WriteString("total_discounts", Amount(checkout.TotalDiscountSet.ShopAmount));
        w.WriteString("total_line_items_price", Amount(checkout.TotalLineItemsPriceSet.ShopAmount));
        w.WriteString("total_price", Amount(checkout.TotalPriceSet.ShopAmount));
        w.WriteString("total_tax", Amount(checkout.TotalTaxSet.ShopAmount));
        w.WriteString("subtotal_price", Amount(checkout.SubtotalPriceSet.ShopAmount));
        w.WriteNull("total_duties");
        w.WriteNull("reservation_token");
        w.WriteNull("billing_address");
        w.WriteNull("shipping_address");
        if (checkout.Customer is { } customer)
        {
            w.WritePropertyName("customer");
            WriteCustomer(w, shop, customer, withAddresses: false);
        }
        else
            w.WriteNull("customer");
        w.WriteEndObject();
    }

    private static void WriteShop(Utf8JsonWriter w, Shop shop)
    {
        var offset = shop.TimeZone.GetUtcOffset(shop.Now);
        var money = shop.CurrencyCode == "USD" ? "${{amount}}" : "{{amount}}";
        w.WriteStartObject();
        w.WriteNumber("id", shop.Id);
        w.WriteString("name", shop.Name);
        w.WriteString("email", shop.Email);
        w.WriteString("domain", shop.MyshopifyDomain);
        w.WriteNull("province");
        w.WriteNull("country");
        w.WriteNull("address1");
        w.WriteNull("zip");
        w.WriteNull("city");
        w.WriteNull("source");
        w.WriteNull("phone");
        w.WriteNull("latitude");
        w.WriteNull("longitude");
        w.WriteString("primary_locale", "en");
        w.WriteNull("address2");
        Time(w, shop, "created_at", shop.CreatedAt);
        Time(w, shop, "updated_at", shop.UpdatedAt);
        w.WriteNull("country_code");
        w.WriteNull("country_name");
        w.WriteString("currency", shop.CurrencyCode);
        w.WriteString("customer_email", shop.Email);
        w.WriteString("timezone", $"(GMT{(offset < TimeSpan.Zero ? "-" : "+")}{offset.Duration():hh\\:mm}) {shop.IanaTimezone}");
        w.WriteString("iana_timezone", shop.IanaTimezone);
        w.WriteString("shop_owner", shop.ShopOwnerName);
        w.WriteString("money_format", money);
        w.WriteString("money_with_currency_format", money + " " + shop.CurrencyCode);
        w.WriteString("weight_unit", "kg");
        w.WriteNull("province_code");
        w.WriteBoolean("taxes_included", shop.TaxesIncluded);
        w.WriteNull("auto_configure_tax_inclusivity");
        w.WriteBoolean("tax_shipping", shop.TaxShipping);
        w.WriteNull("county_taxes");
        w.WriteString("plan_display_name", "Basic");
        w.WriteString("plan_name", "basic");
        w.WriteBoolean("has_discounts", true);
        w.WriteBoolean("has_gift_cards", true);
        w.WriteString("myshopify_domain", shop.MyshopifyDomain);
        w.WriteNull("google_apps_domain");
        w.WriteNull("google_apps_login_enabled");
        w.WriteString("money_in_emails_format", money);
        w.WriteString("money_with_currency_in_emails_format", money + " " + shop.CurrencyCode);
        w.WriteBoolean("eligible_for_payments", true);
        w.WriteBoolean("requires_extra_payments_agreement", false);
        w.WriteBoolean("password_enabled", false);
        w.WriteBoolean("has_storefront", true);
        w.WriteBoolean("finances", true);
        w.WriteNull("primary_location_id");
        w.WriteBoolean("checkout_api_supported", true);
        w.WriteBoolean("multi_location_enabled", true);
        w.WriteBoolean("setup_required", false);
        w.WriteBoolean("pre_launch_enabled", false);
        w.WriteStartArray("enabled_presentment_currencies");
        foreach (var currency in shop.EnabledPresentmentCurrencies)
            w.WriteStringValue(currency);
        w.WriteEndArray();
        w.WriteBoolean("marketing_sms_consent_enabled_at_checkout", false);
        w.WriteBoolean("transactional_sms_disabled", false);
        w.WriteEndObject();
    }

    private static void WritePrivacyHead(Utf8JsonWriter w, Shop shop, PrivacyCustomer customer)
    {
        w.WriteStartObject();
        w.WriteNumber("shop_id", shop.Id);
        w.WriteString("shop_domain", shop.MyshopifyDomain);
        w.WriteStartObject("customer");
        w.WriteNumber("id", customer.Id);
        w.WriteString("email", customer.Email);
        w.WriteString("phone", customer.Phone);
        w.WriteEndObject();
    }

    private static void WriteIds(Utf8JsonWriter w, string name, IEnumerable<long> ids)
    {
        w.WriteStartArray(name);
        foreach (var id in ids)
            w.WriteNumberValue(id);
        w.WriteEndArray();
    }

    /// <summary>The shop's local time with its offset, as in <c>2026-03-08T10:15:00-04:00</c>; GraphQL would say UTC.</summary>
    private static void Time(Utf8JsonWriter w, Shop shop, string name, DateTimeOffset? time)
    {
        if (time is { } t)
            w.WriteString(name, TimeZoneInfo.ConvertTime(t, shop.TimeZone).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
        else
            w.WriteNull(name);
    }

    private static string Amount(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>Writes <c>name</c> (shop money) and, with <paramref name="withSet"/>, <c>name_set</c> beside it.</summary>
    private static void Money(Utf8JsonWriter w, string name, MoneyBag bag, bool withSet)
    {
        w.WriteString(name, Amount(bag.ShopAmount));
        if (withSet)
            Set(w, name + "_set", bag);
    }

    private static void Set(Utf8JsonWriter w, string name, MoneyBag bag)
    {
        w.WriteStartObject(name);
        MoneyV2(w, "shop_money", bag.ShopMoney);
        MoneyV2(w, "presentment_money", bag.PresentmentMoney);
        w.WriteEndObject();
    }

    private static void MoneyV2(Utf8JsonWriter w, string name, MoneyV2 money)
    {
        w.WriteStartObject(name);
        w.WriteString("amount", Amount(money.Amount));
        w.WriteString("currency_code", money.CurrencyCode);
        w.WriteEndObject();
    }

    private static void NullableId(Utf8JsonWriter w, string name, long? id)
    {
        if (id is { } value)
            w.WriteNumber(name, value);
        else
            w.WriteNull(name);
    }

    private static void NullableNumber(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v)
            w.WriteNumber(name, v);
        else
            w.WriteNull(name);
    }
}

/// <summary>The customer part of customers/redact and customers/data_request.</summary>
public sealed record PrivacyCustomer(long Id, string? Email, string? Phone);
