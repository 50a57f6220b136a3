namespace Xeno.ShopifyServer.Model;

public sealed class Order : TimestampedModel
{
    public string Name { get; set; } = "";
    public int Number { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public DateTimeOffset ProcessedAt { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }
    /// <summary>An <c>OrderCancelReason</c> value (CUSTOMER, DECLINED, FRAUD, INVENTORY, STAFF, OTHER).</summary>
    public string? CancelReason { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public bool Closed => ClosedAt is not null;
    public bool Confirmed { get; set; } = true;
    public bool Test { get; set; }
    public string CurrencyCode { get; set; } = "USD";
    public string PresentmentCurrencyCode { get; set; } = "USD";
    /// <summary>Presentment → shop conversion rate the order was placed at; 1 when both currencies agree.</summary>
    public decimal ExchangeRate { get; set; } = 1m;
    public Customer? Customer { get; set; }
    public string? CheckoutToken { get; set; }
    public string SourceName { get; set; } = "web";
    public List<string> Tags { get; set; } = [];
    public string? Note { get; set; }
    public bool TaxesIncluded { get; set; }
    public List<string> DiscountCodes { get; set; } = [];
    public string? DiscountCode => DiscountCodes.FirstOrDefault();
    public List<LineItem> LineItems { get; } = [];
    public List<ShippingLine> ShippingLines { get; } = [];
    public List<Refund> Refunds { get; } = [];

    public ShippingLine? ShippingLine => ShippingLines.FirstOrDefault();

    internal MoneyBag Zero => MoneyBag.Zero(CurrencyCode, PresentmentCurrencyCode);
    private MoneyBag Sum(IEnumerable<MoneyBag> bags) => MoneyBag.Sum(bags, CurrencyCode, PresentmentCurrencyCode);

    public MoneyBag TotalLineItemsPriceSet => Sum(LineItems.Select(l => l.OriginalTotalSet));
    public MoneyBag TotalDiscountsSet => Sum(LineItems.Select(l => l.TotalDiscountSet));
    public MoneyBag CartDiscountAmountSet => TotalDiscountsSet;
    public MoneyBag SubtotalPriceSet => TotalLineItemsPriceSet - TotalDiscountsSet;
    public MoneyBag TotalShippingPriceSet => Sum(ShippingLines.Select(s => s.OriginalPriceSet));
    public MoneyBag TotalTaxSet => Sum(LineItems.SelectMany(l => l.TaxLines).Concat(ShippingLines.SelectMany(s => s.TaxLines)).Select(t => t.PriceSet));
    public MoneyBag TotalPriceSet => SubtotalPriceSet + TotalShippingPriceSet + (TaxesIncluded ? Zero : TotalTaxSet);
    public MoneyBag OriginalTotalPriceSet => TotalPriceSet;
    public MoneyBag TotalRefundedSet => Sum(Refunds.Select(r => r.TotalRefundedSet));
    public MoneyBag TotalRefundedShippingSet => Sum(Refunds.SelectMany(r => r.RefundShippingLines).Select(s => s.SubtotalAmountSet));
    public MoneyBag TotalReceivedSet => TotalPriceSet;
    public MoneyBag NetPaymentSet => TotalPriceSet - TotalRefundedSet;
    public MoneyBag TotalOutstandingSet => Zero;
    public MoneyBag CurrentTotalPriceSet => TotalPriceSet - TotalRefundedSet;
    public MoneyBag CurrentSubtotalPriceSet => SubtotalPriceSet - Sum(Refunds.SelectMany(r => r.RefundLineItems).Select(r => r.SubtotalSet));
    public MoneyBag CurrentTotalTaxSet => TotalTaxSet - Sum(Refunds.Select(r => r.TotalTaxRefundedSet));
    public MoneyBag CurrentShippingPriceSet => TotalShippingPriceSet - TotalRefundedShippingSet;
    public MoneyBag CurrentTotalDiscountsSet => TotalDiscountsSet;
    public MoneyBag CurrentCartDiscountAmountSet => TotalDiscountsSet;
    public int SubtotalLineItemsQuantity => LineItems.Sum(l => l.Quantity);
    public int CurrentSubtotalLineItemsQuantity => LineItems.Sum(l => l.CurrentQuantity);
    public List<TaxLine> TaxLines => LineItems.SelectMany(l => l.TaxLines).Concat(ShippingLines.SelectMany(s => s.TaxLines))
        .GroupBy(t => t.Title).Select(g => new TaxLine(g.Key, g.First().Rate, Sum(g.Select(t => t.PriceSet)))).ToList();
    public List<TaxLine> CurrentTaxLines => TaxLines;
    public bool RequiresShipping => LineItems.Any(l => l.RequiresShipping);
    public bool Refundable => CancelledAt is null && CurrentTotalPriceSet.ShopAmount > 0;
    public bool Unpaid => false;
    public bool FullyPaid => true;
    public bool Edited => false;

    /// <summary>An <c>OrderDisplayFinancialStatus</c>, derived as Shopify does from the refunds.</summary>
    public string DisplayFinancialStatus =>
        Refunds.Count == 0 ? "PAID"
        : CurrentTotalPriceSet.ShopAmount <= 0 ? "REFUNDED"
        : "PARTIALLY_REFUNDED";

    public string DisplayFulfillmentStatus => CancelledAt is null && ProcessedAt < UpdatedAt ? "FULFILLED" : "UNFULFILLED";
    public string ReturnStatus => "NO_RETURN";

    internal override IComparable? SortValue(string sortKey) => sortKey switch
    {
        "PROCESSED_AT" => ProcessedAt,
        "ORDER_NUMBER" => Number,
        "TOTAL_PRICE" => TotalPriceSet.ShopAmount,
        "CURRENT_TOTAL_PRICE" => CurrentTotalPriceSet.ShopAmount,
        "TOTAL_ITEMS_QUANTITY" => SubtotalLineItemsQuantity,
        _ => base.SortValue(sortKey),
    };

    internal override object? SearchValue(string field) => field switch
    {
        "processed_at" => ProcessedAt,
        "name" => Name,
        "test" => Test,
        "customer_id" => Customer?.Id,
        "email" => Email,
        "financial_status" => DisplayFinancialStatus.ToLowerInvariant(),
        "status" => CancelledAt is not null ? "cancelled" : ClosedAt is not null ? "closed" : "open",
        _ => base.SearchValue(field),
    };
}

public sealed class LineItem : GraphModel
{
    internal Order Order { get; set; } = null!;
    public string Title { get; set; } = "";
    public string? VariantTitle { get; set; }
    public string Name => VariantTitle is null ? Title : Title + " - " + VariantTitle;
    public string? Sku { get; set; }
    public string? Vendor { get; set; }
    public int Quantity { get; set; }
    public bool IsGiftCard { get; set; }
    public bool RequiresShipping { get; set; } = true;
    public bool Taxable { get; set; } = true;
    public Product? Product { get; set; }
    public ProductVariant? Variant { get; set; }
    public MoneyBag OriginalUnitPriceSet { get; set; } = null!;
    public List<DiscountAllocation> DiscountAllocations { get; } = [];
    public List<TaxLine> TaxLines { get; } = [];

    public int RefundedQuantity => Order.Refunds.SelectMany(r => r.RefundLineItems).Where(r => r.LineItem == this).Sum(r => r.Quantity);
    public int CurrentQuantity => Quantity - RefundedQuantity;
    public int RefundableQuantity => CurrentQuantity;
    public int UnfulfilledQuantity => 0;
    public int FulfillableQuantity => 0;
    public int NonFulfillableQuantity => 0;
    public bool Restockable => Product is not null;
    public bool MerchantEditable => false;
    public string FulfillmentStatus => "fulfilled";
    public MoneyBag OriginalTotalSet => OriginalUnitPriceSet.Times(Quantity);
    public MoneyBag TotalDiscountSet => MoneyBag.Sum(DiscountAllocations.Select(d => d.AllocatedAmountSet), Order.CurrencyCode, Order.PresentmentCurrencyCode);
    public MoneyBag DiscountedTotalSet => OriginalTotalSet - TotalDiscountSet;
    public MoneyBag DiscountedUnitPriceSet => Quantity == 0 ? OriginalUnitPriceSet : DivideByQuantity(DiscountedTotalSet);
    public MoneyBag DiscountedUnitPriceAfterAllDiscountsSet => DiscountedUnitPriceSet;
    public MoneyBag PriceAfterAllDiscountsBeforeTaxesSet => DiscountedTotalSet;
    public MoneyBag UnfulfilledDiscountedTotalSet => Order.Zero;
    public MoneyBag UnfulfilledOriginalTotalSet => Order.Zero;

    private MoneyBag DivideByQuantity(MoneyBag bag) => new(
        bag.ShopMoney with { Amount = MoneyBag.Round(bag.ShopMoney.Amount / Quantity) },
        bag.PresentmentMoney with { Amount = MoneyBag.Round(bag.PresentmentMoney.Amount / Quantity) });
}

/// <summary>A discount's share of one line item. <see cref="DiscountApplication"/> answers the <c>DiscountApplication</c> interface.</summary>
public sealed class DiscountAllocation(MoneyBag allocatedAmountSet, DiscountCodeApplication discountApplication)
{
    public MoneyBag AllocatedAmountSet { get; } = allocatedAmountSet;
    public MoneyV2 AllocatedAmount => AllocatedAmountSet.ShopMoney;
    public DiscountCodeApplication DiscountApplication { get; } = discountApplication;
}

public sealed class DiscountCodeApplication(string code, decimal percentage)
{
    public string Code { get; } = code;
    public int Index => 0;
    public string AllocationMethod => "ACROSS";
    public string TargetSelection => "ALL";
    public string TargetType => "LINE_ITEM";
    public PricingPercentageValue Value { get; } = new(percentage);
}

public sealed record PricingPercentageValue(decimal Percentage);

public sealed class ShippingLine : GraphModel
{
    public string Title { get; set; } = "Standard";
    public string? Code { get; set; }
    public string? Source { get; set; } = "shopify";
    public string? CarrierIdentifier { get; set; }
    public bool Custom { get; set; }
    public bool IsRemoved => false;
    public MoneyBag OriginalPriceSet { get; set; } = null!;
    public MoneyBag DiscountedPriceSet => OriginalPriceSet;
    public MoneyBag CurrentDiscountedPriceSet => OriginalPriceSet;
    public MoneyV2 OriginalPrice => OriginalPriceSet.ShopMoney;
    public MoneyV2 DiscountedPrice => OriginalPriceSet.ShopMoney;
    public decimal Price => OriginalPriceSet.ShopAmount;
    public List<TaxLine> TaxLines { get; } = [];
    public List<DiscountAllocation> DiscountAllocations { get; } = [];
}

public sealed record TaxLine(string Title, double Rate, MoneyBag PriceSet)
{
    public double RatePercentage => Math.Round(Rate * 100, 4);
    public decimal Price => PriceSet.ShopAmount;
    public string Source => "Shopify";
    public bool ChannelLiable => false;
}

public sealed class Refund : TimestampedModel
{
    internal Order OrderRef { get; set; } = null!;
    public Order Order => OrderRef;
    public DateTimeOffset ProcessedAt { get; set; }
    public string? Note { get; set; }
    public List<RefundLineItem> RefundLineItems { get; } = [];
    public List<RefundShippingLine> RefundShippingLines { get; } = [];

    internal MoneyBag TotalTaxRefundedSet => MoneyBag.Sum(
        RefundLineItems.Select(r => r.TotalTaxSet).Concat(RefundShippingLines.Select(s => s.TaxAmountSet)),
        OrderRef.CurrencyCode, OrderRef.PresentmentCurrencyCode);

    public MoneyBag TotalRefundedSet => MoneyBag.Sum(
        RefundLineItems.Select(r => r.SubtotalSet + r.TotalTaxSet).Concat(RefundShippingLines.Select(s => s.SubtotalAmountSet + s.TaxAmountSet)),
        OrderRef.CurrencyCode, OrderRef.PresentmentCurrencyCode);

    public MoneyV2 TotalRefunded => TotalRefundedSet.ShopMoney;
}

public sealed class RefundLineItem : GraphModel
{
    public LineItem LineItem { get; set; } = null!;
    public int Quantity { get; set; }
    /// <summary>A <c>RefundLineItemRestockType</c>: NO_RESTOCK, CANCEL, RETURN or LEGACY_RESTOCK.</summary>
    public string RestockType { get; set; } = "NO_RESTOCK";
    public bool Restocked => RestockType != "NO_RESTOCK";
    public MoneyBag PriceSet { get; set; } = null!;
    public MoneyBag SubtotalSet { get; set; } = null!;
    public MoneyBag TotalTaxSet { get; set; } = null!;
    public decimal Price => PriceSet.ShopAmount;
    public decimal Subtotal => SubtotalSet.ShopAmount;
    public decimal TotalTax => TotalTaxSet.ShopAmount;
}

public sealed class RefundShippingLine : GraphModel
{
    public ShippingLine ShippingLine { get; set; } = null!;
    public MoneyBag SubtotalAmountSet { get; set; } = null!;
    public MoneyBag TaxAmountSet { get; set; } = null!;
}
