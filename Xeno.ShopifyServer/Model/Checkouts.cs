namespace Xeno.ShopifyServer.Model;

public sealed class AbandonedCheckout : TimestampedModel
{
    internal string ShopDomain { get; set; } = "";
    public string Name => "#" + Id;
    public DateTimeOffset? CompletedAt { get; set; }
    public Customer? Customer { get; set; }
    public string Token { get; set; } = "";
    public string Note { get; set; } = "";
    public bool TaxesIncluded { get; set; }
    public string CurrencyCode { get; set; } = "USD";
    public string PresentmentCurrencyCode { get; set; } = "USD";
    public List<string> DiscountCodes { get; set; } = [];
    public List<AbandonedCheckoutLineItem> LineItems { get; } = [];
    public MoneyBag TotalTaxSet { get; set; } = null!;
    public MoneyBag TotalDiscountSet { get; set; } = null!;
    public MoneyBag TotalLineItemsPriceSet => MoneyBag.Sum(LineItems.Select(l => l.OriginalTotalPriceSet), CurrencyCode, PresentmentCurrencyCode);
    public MoneyBag SubtotalPriceSet => TotalLineItemsPriceSet - TotalDiscountSet;
    public MoneyBag TotalPriceSet => SubtotalPriceSet + (TaxesIncluded ? MoneyBag.Zero(CurrencyCode, PresentmentCurrencyCode) : TotalTaxSet);
    public int LineItemsQuantity => LineItems.Sum(l => l.Quantity);
    public string AbandonedCheckoutUrl => $"https://{ShopDomain}/checkouts/{Token}/recover";
    public string DefaultCursor => Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal override IComparable? SortValue(string sortKey) => sortKey switch
    {
        "CHECKOUT_ID" => Id,
        "TOTAL_PRICE" => TotalPriceSet.ShopAmount,
        "CUSTOMER_NAME" => Customer?.DisplayName ?? "",
        _ => base.SortValue(sortKey),
    };

    internal override object? SearchValue(string field) => field switch
    {
        "status" => CompletedAt is null ? "open" : "closed",
        _ => base.SearchValue(field),
    };
}

public sealed class AbandonedCheckoutLineItem : GraphModel
{
    public string? Title { get; set; }
    public string? VariantTitle { get; set; }
    public string? Sku { get; set; }
    public int Quantity { get; set; }
    public Product? Product { get; set; }
    public ProductVariant? Variant { get; set; }
    public MoneyBag OriginalUnitPriceSet { get; set; } = null!;
    public MoneyBag OriginalTotalPriceSet => OriginalUnitPriceSet.Times(Quantity);
    public MoneyBag DiscountedUnitPriceSet => OriginalUnitPriceSet;
    public MoneyBag DiscountedTotalPriceSet => OriginalTotalPriceSet;
    public MoneyBag DiscountedUnitPriceWithCodeDiscount => OriginalUnitPriceSet;
    public MoneyBag DiscountedTotalPriceWithCodeDiscount => OriginalTotalPriceSet;
}

public sealed class WebhookSubscription : TimestampedModel
{
    /// <summary>A <c>WebhookSubscriptionTopic</c> enum value, e.g. ORDERS_CREATE.</summary>
    public string Topic { get; set; } = "";
    public string Uri { get; set; } = "";
    public string CallbackUrl => Uri;
    public string Format { get; set; } = "JSON";
    public string? Filter { get; set; }
    public string? Name { get; set; }
    public List<string> IncludeFields { get; set; } = [];
    public List<string> MetafieldNamespaces { get; set; } = [];
    public WebhookHttpEndpoint Endpoint => new(Uri);
    public ApiVersion ApiVersion { get; set; } = new("2026-10");

    /// <summary>The app whose token created the subscription: only it sees the subscription, and its secret signs the deliveries.</summary>
    internal ShopifyApp? App { get; set; }

    /// <summary>The owning app's client id; null only for a subscription made outside the API, which the default app owns.</summary>
    public string? AppClientId => App?.ClientId;

    internal override object? SearchValue(string field) => field switch
    {
        "topic" => Topic,
        _ => base.SearchValue(field),
    };
}

public sealed record WebhookHttpEndpoint(string CallbackUrl);

public sealed record ApiVersion(string Handle)
{
    public string DisplayName => Handle;
    public bool Supported => true;
}
