using System.Globalization;
using System.Text.Json.Nodes;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;

namespace Xeno.Web.Features.Sync;

/// <summary>GraphQL Admin API nodes → Xeno's rows. Shop money only; presentment money is kept on the
/// order for reference and never summed.</summary>
public static class GraphQlMapping
{
    public static ShopProduct Product(JsonNode n, ProductBatch batch)
    {
        var product = new ShopProduct
        {
            Id = Id(n), Title = Str(n["title"]) ?? "", Status = Str(n["status"]),
            CreatedAt = Time(n["createdAt"]), ShopifyUpdatedAt = Time(n["updatedAt"]) ?? DateTimeOffset.UnixEpoch,
        };
        batch.Products.Add(product);
        foreach (var v in Nodes(n["variants"]))
            batch.Variants.Add(new ShopProductVariant { Id = Id(v), ProductId = product.Id, Title = Str(v["title"]), Sku = Str(v["sku"]), Price = Dec(v["price"]) });
        return product;
    }

    public static ShopCustomer Customer(JsonNode n) => new()
    {
        Id = Id(n), FirstName = Str(n["firstName"]), LastName = Str(n["lastName"]),
        Email = Str(n["defaultEmailAddress"]?["emailAddress"]), Phone = Str(n["defaultPhoneNumber"]?["phoneNumber"]),
        RfmGroup = Str(n["statistics"]?["rfmGroup"]),
        CreatedAt = Time(n["createdAt"]), ShopifyUpdatedAt = Time(n["updatedAt"]) ?? DateTimeOffset.UnixEpoch,
    };

    public static ShopCheckout Checkout(JsonNode n) => new()
    {
        Id = Id(n), CustomerId = OptionalId(n["customer"]),
        CreatedAt = Time(n["createdAt"]) ?? DateTimeOffset.UnixEpoch, CompletedAt = Time(n["completedAt"]),
        TotalPrice = Shop(n["totalPriceSet"]), ShopifyUpdatedAt = Time(n["updatedAt"]) ?? DateTimeOffset.UnixEpoch,
    };

    /// <summary>Adds the order, its first page of lines and its refunds to the batch.</summary>
    public static ShopOrder Order(JsonNode n, OrderBatch batch)
    {
        var order = new ShopOrder
        {
            Id = Id(n), Name = Str(n["name"]), CustomerId = OptionalId(n["customer"]),
            ProcessedAt = Time(n["processedAt"]) ?? Time(n["createdAt"]) ?? DateTimeOffset.UnixEpoch,
            CreatedAt = Time(n["createdAt"]), CancelledAt = Time(n["cancelledAt"]), Test = n["test"]?.GetValue<bool>() ?? false,
            Currency = Str(n["currencyCode"]), PresentmentCurrency = Str(n["presentmentCurrencyCode"]),
            TotalPrice = Shop(n["totalPriceSet"]), TotalPricePresentment = Dec(n["totalPriceSet"]?["presentmentMoney"]?["amount"]) ?? 0m,
            CurrentTotalPrice = Shop(n["currentTotalPriceSet"]), ShippingPrice = Shop(n["totalShippingPriceSet"]),
            TotalTax = Shop(n["totalTaxSet"]), TotalDiscounts = Shop(n["totalDiscountsSet"]),
            ShopifyUpdatedAt = Time(n["updatedAt"]) ?? DateTimeOffset.UnixEpoch,
        };
        batch.Orders.Add(order);
        foreach (var line in Nodes(n["lineItems"])) batch.Lines.Add(LineItem(line, order.Id));

        foreach (var r in n["refunds"]?.AsArray() ?? [])
        {
            if (r is null) continue;
            if (r["refundLineItems"]?["pageInfo"]?["hasNextPage"]?.GetValue<bool>() == true
                || r["refundShippingLines"]?["pageInfo"]?["hasNextPage"]?.GetValue<bool>() == true)
                // REVIEW: a refund of more than 10 lines needs a follow-up query; until then fail loudly rather than drop rows.
                throw new NotSupportedException($"Refund {Str(r["id"])} of order {order.Name} has more lines than one page holds.");
            var refund = new ShopRefund
            {
                Id = Id(r), OrderId = order.Id, CreatedAt = Time(r["createdAt"]) ?? order.ProcessedAt,
                ShippingRefunded = Nodes(r["refundShippingLines"]).Sum(s => Shop(s["subtotalAmountSet"])),
                ShippingTaxRefunded = Nodes(r["refundShippingLines"]).Sum(s => Shop(s["taxAmountSet"])),
            };
            batch.Refunds.Add(refund);
            // One row per refunded line item and refund; Shopify may list a line twice (restock split).
            foreach (var group in Nodes(r["refundLineItems"]).GroupBy(l => Id(l["lineItem"]!)))
            {
                batch.RefundLines.Add(new ShopRefundLine
                {
                    RefundId = refund.Id, LineItemId = group.Key, OrderId = order.Id,
                    Quantity = group.Sum(l => l["quantity"]?.GetValue<int>() ?? 0),
                    Subtotal = group.Sum(l => Shop(l["subtotalSet"])), TotalTax = group.Sum(l => Shop(l["totalTaxSet"])),
                });
            }
        }
        return order;
    }

    public static ShopOrderLine LineItem(JsonNode l, long orderId) => new()
    {
        Id = Id(l), OrderId = orderId, ProductId = OptionalId(l["product"]), VariantId = OptionalId(l["variant"]),
        Title = Str(l["title"]), Quantity = l["quantity"]?.GetValue<int>() ?? 0,
        OriginalUnitPrice = Shop(l["originalUnitPriceSet"]), IsGiftCard = l["isGiftCard"]?.GetValue<bool>() ?? false,
        DiscountAllocated = (l["discountAllocations"]?.AsArray() ?? []).Sum(d => Shop(d?["allocatedAmountSet"])),
    };

    public static IEnumerable<JsonNode> Nodes(JsonNode? connection) =>
        (connection?["nodes"]?.AsArray() ?? []).Where(n => n is not null)!;

    private static long Id(JsonNode n) => ShopifyIds.FromGid(Str(n["id"]) ?? throw new FormatException("A Shopify node without an id."));
    private static long? OptionalId(JsonNode? n) => Str(n?["id"]) is { } gid ? ShopifyIds.FromGid(gid) : null;
    private static string? Str(JsonNode? n) => n?.GetValue<string>();
    private static decimal Shop(JsonNode? moneyBag) => Dec(moneyBag?["shopMoney"]?["amount"]) ?? 0m;
    private static decimal? Dec(JsonNode? n) =>
        n is null ? null : decimal.Parse(n.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture);
    private static DateTimeOffset? Time(JsonNode? n) =>
        n is null ? null : DateTimeOffset.Parse(n.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
