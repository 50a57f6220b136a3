using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// Webhook (REST-shaped) bodies → the same rows the GraphQL sync writes: snake_case, integer ids,
/// <c>*_set</c> money (shop money taken), timestamps with the shop's offset. Ids come from
/// <c>admin_graphql_api_id</c> where the body has it: it is exact, while a JSON number may have passed
/// through a double somewhere on its way.
/// </summary>
public static class RestMapping
{
    public static ShopOrder Order(JsonNode o, OrderBatch batch)
    {
        var order = new ShopOrder
        {
            Id = Id(o), Name = Str(o["name"]), CustomerId = o["customer"] is JsonObject c ? Id(c) : null,
            ProcessedAt = Time(o["processed_at"]) ?? Time(o["created_at"]) ?? DateTimeOffset.UnixEpoch,
            CreatedAt = Time(o["created_at"]), CancelledAt = Time(o["cancelled_at"]), Test = Bool(o["test"]),
            Currency = Str(o["currency"]), PresentmentCurrency = Str(o["presentment_currency"]),
            TotalPrice = Money(o, "total_price"), TotalPricePresentment = Dec(o["total_price_set"]?["presentment_money"]?["amount"]) ?? 0m,
            CurrentTotalPrice = Money(o, "current_total_price"), ShippingPrice = Money(o, "total_shipping_price"),
            TotalTax = Money(o, "total_tax"), TotalDiscounts = Money(o, "total_discounts"),
            CheckoutToken = Str(o["checkout_token"]),
            ShopifyUpdatedAt = Time(o["updated_at"]) ?? Time(o["created_at"]) ?? DateTimeOffset.UnixEpoch,
        };
        batch.Orders.Add(order);
        foreach (var l in Array(o["line_items"]))
        {
            batch.Lines.Add(new ShopOrderLine
            {
                Id = Id(l), OrderId = order.Id, ProductId = Long(l["product_id"]), VariantId = Long(l["variant_id"]),
                Title = Str(l["title"]), Quantity = Int(l["quantity"]), OriginalUnitPrice = Money(l, "price"),
                IsGiftCard = Bool(l["gift_card"]),
                DiscountAllocated = Array(l["discount_allocations"]).Sum(d => Money(d, "amount")),
            });
        }
        foreach (var r in Array(o["refunds"])) Refund(r, order.Id, batch);
        return order;
    }

    /// <summary>A refund, as refunds/create sends it and as orders carry them.</summary>
    public static ShopRefund Refund(JsonNode r, long? orderId, OrderBatch batch)
    {
        var shipping = Array(r["refund_shipping_lines"]).ToList();
        var refund = new ShopRefund
        {
            Id = Id(r), OrderId = orderId ?? Long(r["order_id"]) ?? throw new FormatException("A refund without its order."),
            CreatedAt = Time(r["created_at"]) ?? Time(r["processed_at"]) ?? DateTimeOffset.UnixEpoch,
            ShippingRefunded = shipping.Sum(s => Money(s, "subtotal_amount")),
            ShippingTaxRefunded = shipping.Sum(s => Money(s, "tax_amount")),
        };
        batch.Refunds.Add(refund);
        foreach (var group in Array(r["refund_line_items"]).GroupBy(LineItemId))
        {
            batch.RefundLines.Add(new ShopRefundLine
            {
                RefundId = refund.Id, LineItemId = group.Key, OrderId = refund.OrderId,
                Quantity = group.Sum(l => Int(l["quantity"])),
                Subtotal = group.Sum(l => Money(l, "subtotal")), TotalTax = group.Sum(l => Money(l, "total_tax")),
            });
        }
        return refund;
    }

    public static ShopCustomer Customer(JsonNode c) => new()
    {
        Id = Id(c), FirstName = Str(c["first_name"]), LastName = Str(c["last_name"]), Email = Str(c["email"]), Phone = Str(c["phone"]),
        CreatedAt = Time(c["created_at"]), ShopifyUpdatedAt = Time(c["updated_at"]) ?? Time(c["created_at"]) ?? DateTimeOffset.UnixEpoch,
    };

    public static void Product(JsonNode p, ProductBatch batch)
    {
        var product = new ShopProduct
        {
            Id = Id(p), Title = Str(p["title"]) ?? "", Status = Str(p["status"])?.ToUpperInvariant(), CreatedAt = Time(p["created_at"]),
            ShopifyUpdatedAt = Time(p["updated_at"]) ?? Time(p["created_at"]) ?? DateTimeOffset.UnixEpoch,
        };
        batch.Products.Add(product);
        foreach (var v in Array(p["variants"]))
            batch.Variants.Add(new ShopProductVariant { Id = Id(v), ProductId = product.Id, Title = Str(v["title"]), Sku = Str(v["sku"]), Price = Dec(v["price"]) });
    }

    public static ShopCheckout Checkout(JsonNode c) => new()
    {
        Id = CheckoutId(c), Token = Str(c["token"]), CustomerId = c["customer"] is JsonObject customer ? Id(customer) : null,
        CreatedAt = Time(c["created_at"]) ?? DateTimeOffset.UnixEpoch, CompletedAt = Time(c["completed_at"]),
        TotalPrice = Money(c, "total_price"), ShopifyUpdatedAt = Time(c["updated_at"]) ?? Time(c["created_at"]) ?? DateTimeOffset.UnixEpoch,
    };

    /// <summary>Real checkout bodies carry an id; documentation samples have only a token. Such a
    /// checkout is keyed by a stable negative number made from its token, which no Shopify id can be.</summary>
    public static long CheckoutId(JsonNode c)
    {
        if (c["id"] is JsonValue) return Id(c);
        var token = Str(c["token"]) ?? throw new FormatException("A checkout with neither id nor token.");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        return -(long)(BitConverter.ToUInt64(hash, 0) >> 1) - 1;
    }

    public static long Id(JsonNode node) =>
        Str(node["admin_graphql_api_id"]) is { } gid ? ShopifyIds.FromGid(gid)
        : Long(node["id"]) ?? throw new FormatException("A record without an id.");

    public static long? Long(JsonNode? n) => n switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.TryGetValue<long>(out var l) ? l : (long)v.GetValue<decimal>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => long.Parse(v.GetValue<string>(), CultureInfo.InvariantCulture),
        _ => null,
    };

    public static IEnumerable<JsonNode> Array(JsonNode? n) => (n as JsonArray ?? []).Where(x => x is not null)!;

    public static string? Str(JsonNode? n) =>
        n is JsonValue v ? v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString() : null;

    private static long LineItemId(JsonNode refundLine) =>
        refundLine["line_item"] is JsonObject line ? Id(line) : Long(refundLine["line_item_id"]) ?? 0;

    /// <summary>The shop-money amount of <c>{field}_set</c>, else the plain <c>{field}</c>.</summary>
    private static decimal Money(JsonNode node, string field) =>
        Dec(node[field + "_set"]?["shop_money"]?["amount"]) ?? Dec(node[field]) ?? 0m;

    private static decimal? Dec(JsonNode? n) => n switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => decimal.Parse(v.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<decimal>(),
        _ => null,
    };

    private static int Int(JsonNode? n) => (int)(Long(n) ?? 0);
    private static bool Bool(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    private static DateTimeOffset? Time(JsonNode? n) =>
        Str(n) is { Length: > 0 } text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null;
}
