using System.Collections.Concurrent;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>The shops a fake Shopify knows, each with its access tokens. Thread-safe.</summary>
public sealed class ShopifyServerState(TimeProvider? clock = null, HttpMessageHandler? webhookHandler = null)
{
    private readonly ConcurrentDictionary<string, Shop> _shops = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _tokens = new(StringComparer.OrdinalIgnoreCase);

    public TimeProvider Clock { get; } = clock ?? TimeProvider.System;

    /// <summary>Sends every shop's webhooks to its subscriptions; holds the app secret and the test switches.</summary>
    public WebhookEmitter Webhooks { get; } = new(webhookHandler);

    /// <summary>The app's client secret webhooks are signed with (same as <c>Webhooks.AppSecret</c>).</summary>
    public string AppSecret
    {
        get => Webhooks.AppSecret;
        set => Webhooks.AppSecret = value;
    }

    /// <summary>Waits until every webhook enqueued so far has been delivered or has run out of attempts.</summary>
    public Task FlushWebhooksAsync(CancellationToken cancellationToken = default) => Webhooks.FlushWebhooksAsync(cancellationToken);

    /// <summary>Every webhook HTTP attempt so far (same as <c>Webhooks.Deliveries</c>).</summary>
    public IReadOnlyList<WebhookDelivery> WebhookDeliveries => Webhooks.Deliveries;

    public IReadOnlyCollection<Shop> Shops => _shops.Values.ToList();

    /// <summary>Adds an empty shop reachable with <paramref name="accessToken"/>.</summary>
    public Shop AddShop(string domain, string name, string currencyCode, string ianaTimezone, string accessToken) =>
        AddShop(new Shop(domain, name, currencyCode, ianaTimezone, Clock), accessToken);

    /// <summary>Adds a shop built elsewhere (e.g. by <see cref="ShopGenerator"/>); it then runs on this state's clock.</summary>
    public Shop AddShop(Shop shop, string accessToken)
    {
        shop.Clock = Clock;
        shop.Webhooks = Webhooks;
        if (!_shops.TryAdd(shop.MyshopifyDomain, shop))
            throw new InvalidOperationException($"Shop {shop.MyshopifyDomain} already exists.");
        AddToken(shop.MyshopifyDomain, accessToken);
        return shop;
    }

    public void AddToken(string domain, string accessToken) =>
        _tokens.GetOrAdd(domain, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[accessToken] = 0;

    public bool RevokeToken(string domain, string accessToken) =>
        _tokens.TryGetValue(domain, out var tokens) && tokens.TryRemove(accessToken, out _);

    /// <summary>Forgets a shop entirely, as an uninstall followed by shop/redact would.</summary>
    public bool RemoveShop(string domain)
    {
        _tokens.TryRemove(domain, out _);
        return _shops.TryRemove(domain, out _);
    }

    /// <summary>Sends app/uninstalled (the body is the shop). Tokens stay valid: revoke them to model the uninstall itself.</summary>
    public void EmitAppUninstalled(string domain)
    {
        var shop = GetShop(domain);
        shop.Locked(() => Webhooks.EmitAppTopic(shop, "app/uninstalled", WebhookBodies.ShopResource(shop)));
    }

    /// <summary>Sends shop/redact (Shopify sends it 48 h after an uninstall).</summary>
    public void EmitShopRedact(string domain)
    {
        var shop = GetShop(domain);
        shop.Locked(() => Webhooks.EmitAppTopic(shop, "shop/redact", WebhookBodies.ShopRedact(shop)));
    }

    /// <summary>
    /// Sends customers/redact. Email and phone come from the customer when the shop still has it;
    /// <paramref name="ordersToRedact"/> defaults to the customer's orders.
    /// </summary>
    public void EmitCustomersRedact(string domain, long customerId, IReadOnlyList<long>? ordersToRedact = null)
    {
        var shop = GetShop(domain);
        shop.Locked(() =>
        {
            var (customer, orders) = PrivacySubject(shop, customerId);
            Webhooks.EmitAppTopic(shop, "customers/redact", WebhookBodies.CustomersRedact(shop, customer, ordersToRedact ?? orders));
        });
    }

    /// <summary>Sends customers/data_request; defaults as <see cref="EmitCustomersRedact"/>, and a random request id.</summary>
    public void EmitCustomersDataRequest(string domain, long customerId, IReadOnlyList<long>? ordersRequested = null, long? dataRequestId = null)
    {
        var shop = GetShop(domain);
        shop.Locked(() =>
        {
            var (customer, orders) = PrivacySubject(shop, customerId);
            Webhooks.EmitAppTopic(shop, "customers/data_request",
                WebhookBodies.CustomersDataRequest(shop, customer, ordersRequested ?? orders, dataRequestId ?? Random.Shared.NextInt64(1_000, 1_000_000_000)));
        });
    }

    private static (PrivacyCustomer Customer, IReadOnlyList<long> Orders) PrivacySubject(Shop shop, long customerId)
    {
        var customer = shop.CustomerList.Find(c => c.Id == customerId);
        return (new PrivacyCustomer(customerId, customer?.Email, customer?.Phone),
            customer is null ? [] : shop.OrdersOf(customer).Select(o => o.Id).ToList());
    }

    public Shop? FindShop(string domain) => _shops.GetValueOrDefault(domain);

    public Shop GetShop(string domain) => FindShop(domain) ?? throw new KeyNotFoundException($"No shop {domain}.");

    public bool IsValidToken(string domain, string? accessToken) =>
        accessToken is not null && _tokens.TryGetValue(domain, out var tokens) && tokens.ContainsKey(accessToken);
}
