namespace Xeno.ShopifyServer.Model;

public sealed class Customer : TimestampedModel
{
    internal Shop Shop { get; set; } = null!;
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    /// <summary>Stored flat; the 2026-10 schema reads it through <c>defaultEmailAddress { emailAddress }</c> (<c>email</c> is deprecated but still answers).</summary>
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? Note { get; set; }
    public string Locale { get; set; } = "en";
    public bool VerifiedEmail { get; set; } = true;
    /// <summary>A <c>CustomerState</c>: DISABLED, INVITED, ENABLED or DECLINED.</summary>
    public string State { get; set; } = "ENABLED";
    public List<string> Tags { get; set; } = [];
    public bool TaxExempt { get; set; }
    public CustomerStatistics Statistics { get; } = new();

    public string DisplayName => string.Join(' ', new[] { FirstName, LastName }.Where(n => !string.IsNullOrEmpty(n))) is { Length: > 0 } name
        ? name : Email ?? Phone ?? "";

    public CustomerEmailAddress? DefaultEmailAddress => Email is null ? null : new CustomerEmailAddress(Email);
    public CustomerPhoneNumber? DefaultPhoneNumber => Phone is null ? null : new CustomerPhoneNumber(Phone);
    public bool ValidEmailAddress => Email is not null;

    public IEnumerable<Order> Orders => Shop.OrdersOf(this);
    public long NumberOfOrders => Orders.LongCount();
    public Order? LastOrder => Orders.MaxBy(o => o.ProcessedAt);
    public bool CanDelete => !Orders.Any();

    public MoneyV2 AmountSpent => new(Orders.Where(o => !o.Test).Sum(o => o.CurrentTotalPriceSet.ShopAmount), Shop.CurrencyCode);
    public string LifetimeDuration => "about 1 year";

    internal override IComparable? SortValue(string sortKey) => sortKey switch
    {
        "NAME" => DisplayName,
        _ => base.SortValue(sortKey),
    };

    internal override object? SearchValue(string field) => field switch
    {
        "email" => Email,
        "first_name" => FirstName,
        "last_name" => LastName,
        "state" => State.ToLowerInvariant(),
        _ => base.SearchValue(field),
    };
}

public sealed class CustomerStatistics
{
    /// <summary>A <c>CustomerRfmGroup</c>, as Shopify reports it (CHAMPIONS, LOYAL, …), or null when Shopify has none yet.</summary>
    public string? RfmGroup { get; set; }
    /// <summary>A <c>CustomerPredictedSpendTier</c>: HIGH, MEDIUM or LOW.</summary>
    public string? PredictedSpendTier { get; set; }
}

public sealed record CustomerEmailAddress(string EmailAddress)
{
    public string MarketingState => "NOT_SUBSCRIBED";
    public bool ValidFormat => EmailAddress.Contains('@');
    public string OpenTrackingLevel => "UNKNOWN";
}

public sealed record CustomerPhoneNumber(string PhoneNumber)
{
    public string MarketingState => "NOT_SUBSCRIBED";
}
