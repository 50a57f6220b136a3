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
        foreach (var v in Nodes(n["variants"])) batch.Variants.Add(Variant(v, product.Id));
        return product;
    }

    public static ShopProductVariant Variant(JsonNode v, long productId) =>
        new() { Id = Id(v), ProductId = productId, Title = Str(v["title"]), Sku = Str(v["sku"]), Price = Dec(v["price"]) };

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

        // Orders are read with their refunds' ids and dates only: the lines and shipping of a refund the store does not
        // know yet are fetched afterwards (RefundDetails), since a bulk file cannot carry them.
        foreach (var r in n["refunds"]?.AsArray() ?? [])
            if (r is not null)
                batch.Refunds.Add(new ShopRefund { Id = Id(r), OrderId = order.Id, CreatedAt = Time(r["createdAt"]) ?? order.ProcessedAt, DetailsPending = true });
        return order;
    }

    /// <summary>A refund node of the RefundDetails query (its first page of lines, and its shipping) into the batch.</summary>
    public static ShopRefund RefundDetails(JsonNode r, OrderBatch batch)
    {
        var orderId = Id(r["order"] ?? throw new FormatException("A refund without its order."));
        var refund = new ShopRefund
        {
            Id = Id(r), OrderId = orderId, CreatedAt = Time(r["createdAt"]) ?? DateTimeOffset.UnixEpoch,
            ShippingRefunded = Nodes(r["refundShippingLines"]).Sum(s => Shop(s["subtotalAmountSet"])),
            ShippingTaxRefunded = Nodes(r["refundShippingLines"]).Sum(s => Shop(s["taxAmountSet"])),
        };
        batch.Refunds.Add(refund);
        RefundLines(refund, Nodes(r["refundLineItems"]), batch);
        return refund;
    }

    /// <summary>One row per refunded line item and refund; Shopify may list a line twice (restock split), and a refund's
    /// lines may come in several pages: rows for a line already in the batch are added to.</summary>
    public static void RefundLines(ShopRefund refund, IEnumerable<JsonNode> lines, OrderBatch batch)
    {
        foreach (var l in lines)
        {
            var lineItemId = Id(l["lineItem"] ?? throw new FormatException("A refund line without its line item."));
            var row = batch.RefundLines.Find(x => x.RefundId == refund.Id && x.LineItemId == lineItemId);
            if (row is null)
            {
                row = new ShopRefundLine { RefundId = refund.Id, LineItemId = lineItemId, OrderId = refund.OrderId };
                batch.RefundLines.Add(row);
            }
            row.Quantity += l["quantity"]?.GetValue<int>() ?? 0;
            row.Subtotal += Shop(l["subtotalSet"]);
            row.TotalTax += Shop(l["totalTaxSet"]);
        }
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

    public static long Id(JsonNode n) => ShopifyIds.FromGid(Str(n["id"]) ?? throw new FormatException("A Shopify node without an id."));
    private static long? OptionalId(JsonNode? n) => Str(n?["id"]) is { } gid ? ShopifyIds.FromGid(gid) : null;
    private static string? Str(JsonNode? n) => n?.GetValue<string>();
    public static decimal Shop(JsonNode? moneyBag) => Dec(moneyBag?["shopMoney"]?["amount"]) ?? 0m;
    private static decimal? Dec(JsonNode? n) =>
        n is null ? null : decimal.Parse(n.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture);
    private static DateTimeOffset? Time(JsonNode? n) =>
        n is null ? null : DateTimeOffset.Parse(n.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
