namespace Xeno.ShopifyServer.Model;

/// <summary>Shopify's <c>MoneyV2</c>: a decimal amount and its currency.</summary>
public sealed record MoneyV2(decimal Amount, string CurrencyCode)
{
    public static MoneyV2 Zero(string currencyCode) => new(0.00m, currencyCode);
}

/// <summary>
/// Shopify's <c>MoneyBag</c>. Shop money is the presentment amount converted at the order's fixed rate
/// and rounded to cents, the way Shopify stores both amounts side by side.
/// </summary>
public sealed record MoneyBag(MoneyV2 ShopMoney, MoneyV2 PresentmentMoney)
{
    public static MoneyBag Zero(string shopCurrency, string presentmentCurrency) =>
        new(MoneyV2.Zero(shopCurrency), MoneyV2.Zero(presentmentCurrency));

    /// <summary>A bag whose shop amount is <paramref name="presentmentAmount"/> × <paramref name="rate"/>, rounded half away from zero.</summary>
    public static MoneyBag FromPresentment(decimal presentmentAmount, decimal rate, string shopCurrency, string presentmentCurrency) =>
        Of(new MoneyV2(Round(presentmentAmount * rate), shopCurrency), new MoneyV2(Round(presentmentAmount), presentmentCurrency));

    public static MoneyBag Single(decimal amount, string currency) => Of(new MoneyV2(Round(amount), currency), new MoneyV2(Round(amount), currency));

    /// <summary>
    /// Both monies, sharing one instance when they are equal (every order in the shop's own currency): MoneyV2 is
    /// immutable, and a large generated shop holds millions of bags.
    /// </summary>
    private static MoneyBag Of(MoneyV2 shopMoney, MoneyV2 presentmentMoney) =>
        new(shopMoney, shopMoney == presentmentMoney && shopMoney.Amount.Scale == presentmentMoney.Amount.Scale ? shopMoney : presentmentMoney);

    public static decimal Round(decimal amount) => decimal.Round(amount, 2, MidpointRounding.AwayFromZero);

    public decimal ShopAmount => ShopMoney.Amount;
    public decimal PresentmentAmount => PresentmentMoney.Amount;

    public static MoneyBag operator +(MoneyBag a, MoneyBag b) =>
        new(a.ShopMoney with { Amount = a.ShopMoney.Amount + b.ShopMoney.Amount },
            a.PresentmentMoney with { Amount = a.PresentmentMoney.Amount + b.PresentmentMoney.Amount });

    public static MoneyBag operator -(MoneyBag a, MoneyBag b) =>
        new(a.ShopMoney with { Amount = a.ShopMoney.Amount - b.ShopMoney.Amount },
            a.PresentmentMoney with { Amount = a.PresentmentMoney.Amount - b.PresentmentMoney.Amount });

    /// <summary>Multiplies both amounts; used for unit price × quantity, which needs no rounding.</summary>
    public MoneyBag Times(int quantity) =>
        new(ShopMoney with { Amount = ShopMoney.Amount * quantity }, PresentmentMoney with { Amount = PresentmentMoney.Amount * quantity });

    public static MoneyBag Sum(IEnumerable<MoneyBag> bags, string shopCurrency, string presentmentCurrency) =>
        bags.Aggregate(Zero(shopCurrency, presentmentCurrency), (total, bag) => total + bag);
}
