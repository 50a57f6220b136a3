using System.Collections.Concurrent;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>
/// The shops a fake Shopify knows, the apps installed on them and every token those apps hold. Thread-safe.
/// </summary>
public sealed class ShopifyServerState
{
    private readonly ConcurrentDictionary<string, Shop> _shops = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ShopifyApp> _apps = new(StringComparer.Ordinal);

    public ShopifyServerState(TimeProvider? clock = null, HttpMessageHandler? webhookHandler = null)
    {
        Clock = clock ?? TimeProvider.System;
        Webhooks = new WebhookEmitter(webhookHandler);
        Grants = new AccessGrants(Clock);
        _apps[DefaultApp.ClientId] = DefaultApp;
    }

    public TimeProvider Clock { get; }

    /// <summary>Sends every shop's webhooks to its subscriptions; holds the default app's secret and the test switches.</summary>
    public WebhookEmitter Webhooks { get; }

    /// <summary>The install switches, token request log and token endpoint faults.</summary>
    public ShopifyOAuthState OAuth { get; } = new();

    internal AccessGrants Grants { get; }

    /// <summary>
    /// The app of every token added without one (<see cref="AddShop(Shop, string)"/>, <see cref="AddToken"/>);
    /// its secret is <see cref="AppSecret"/> and its settings are those of <see cref="Webhooks"/>.
    /// </summary>
    public ShopifyApp DefaultApp => Webhooks.DefaultApp;

    /// <summary>The default app's client secret, which signs its webhooks (same as <c>Webhooks.AppSecret</c>).</summary>
    public string AppSecret
    {
        get => Webhooks.AppSecret;
        set => Webhooks.AppSecret = value;
    }

    /// <summary>Registers an app so that it can install, get tokens and subscribe to webhooks.</summary>
    public void AddApp(ShopifyApp app)
    {
        if (!_apps.TryAdd(app.ClientId, app))
            throw new InvalidOperationException($"App {app.ClientId} already exists.");
    }

    public ShopifyApp? FindApp(string clientId) => _apps.GetValueOrDefault(clientId);

    public IReadOnlyCollection<ShopifyApp> Apps => _apps.Values.ToList();

    /// <summary>Waits until every webhook enqueued so far has been delivered or has run out of attempts.</summary>
    public Task FlushWebhooksAsync(CancellationToken cancellationToken = default) => Webhooks.FlushWebhooksAsync(cancellationToken);

    /// <summary>Every webhook HTTP attempt so far (same as <c>Webhooks.Deliveries</c>).</summary>
    public IReadOnlyList<WebhookDelivery> WebhookDeliveries => Webhooks.Deliveries;

    public IReadOnlyCollection<Shop> Shops => _shops.Values.ToList();

    /// <summary>Adds an empty shop reachable with <paramref name="accessToken"/> (a never-expiring token of the default app).</summary>
    public Shop AddShop(string domain, string name, string currencyCode, string ianaTimezone, string accessToken) =>
        AddShop(new Shop(domain, name, currencyCode, ianaTimezone, Clock), accessToken);

    /// <summary>Adds a shop built elsewhere (e.g. by <see cref="ShopGenerator"/>) with a never-expiring token of the default app.</summary>
    public Shop AddShop(Shop shop, string accessToken)
    {
        AddShop(shop);
        AddToken(shop.MyshopifyDomain, accessToken);
        return shop;
    }

    /// <summary>Adds a shop without any token, e.g. for an app to install through OAuth; it then runs on this state's clock.</summary>
    public Shop AddShop(Shop shop)
    {
        shop.Clock = Clock;
        shop.Webhooks = Webhooks;
        if (!_shops.TryAdd(shop.MyshopifyDomain, shop))
            throw new InvalidOperationException($"Shop {shop.MyshopifyDomain} already exists.");
        return shop;
    }

    /// <summary>
    /// Gives <paramref name="app"/> (the default app when null; registered on first use) an access token on the
    /// shop, valid until <paramref name="expiresAt"/> by <see cref="Clock"/> (never when null).
    /// </summary>
    public void AddToken(string domain, string accessToken, ShopifyApp? app = null, DateTimeOffset? expiresAt = null)
    {
        app ??= DefaultApp;
        var known = _apps.GetOrAdd(app.ClientId, app);
        if (known != app)
            throw new InvalidOperationException($"Another app with client id {app.ClientId} is already registered.");
        Grants.Add(domain, accessToken, app, expiresAt);
    }

    /// <summary>Revokes an access token (or a refresh token) of the shop; false when it had no such live token.</summary>
    public bool RevokeToken(string domain, string accessToken) => Grants.Revoke(domain, accessToken);

    /// <summary>Makes <paramref name="token"/> expire now, on every shop that has it: it answers 401 from then on.</summary>
    public void ExpireAccessToken(string token) => Grants.Expire(token);

    /// <summary>Forgets a shop entirely, as an uninstall followed by shop/redact would.</summary>
    public bool RemoveShop(string domain)
    {
        Grants.RemoveShop(domain);
        return _shops.TryRemove(domain, out _);
    }

    /// <summary>
    /// Uninstalls an app from a shop as Shopify does: sends app/uninstalled (body = the shop) to the app's
    /// APP_UNINSTALLED subscriptions, else its <see cref="ShopifyApp.AppWebhookUri"/>, else its other subscription
    /// URIs, signed with its secret; then revokes every access and refresh token of the app on the shop and
    /// removes its webhook subscriptions there. False (and nothing sent) when the shop or the app is unknown or
    /// the app holds neither a token nor a subscription on the shop.
    /// </summary>
    public bool UninstallApp(string domain, string clientId)
    {
        if (FindShop(domain) is not { } shop || FindApp(clientId) is not { } app)
            return false;
        return shop.Locked(() =>
        {
            var owned = shop.WebhookList.Where(w => OwnerOf(w) == app).ToList();
            if (owned.Count == 0 && !Grants.IsInstalled(shop.MyshopifyDomain, app))
                return false;
            // Enqueued before the revocation, so that the event is part of the uninstall and keeps its order.
            Webhooks.EmitAppTopic(shop, "app/uninstalled", WebhookBodies.ShopResource(shop), [app]);
            Grants.RevokeApp(shop.MyshopifyDomain, app);
            shop.WebhookList.RemoveAll(owned.Contains);
            return true;
        });
    }

    /// <summary>
    /// Sends app/uninstalled (the body is the shop) to every app on the shop (see <see cref="AppsOn"/>). Tokens
    /// stay valid: revoke them to model the uninstall itself, or use <see cref="UninstallApp"/>.
    /// </summary>
    public void EmitAppUninstalled(string domain)
    {
        var shop = GetShop(domain);
        shop.Locked(() => Webhooks.EmitAppTopic(shop, "app/uninstalled", WebhookBodies.ShopResource(shop), AppsOn(shop)));
    }

    /// <summary>Sends shop/redact (Shopify sends it 48 h after an uninstall).</summary>
    public void EmitShopRedact(string domain)
    {
        var shop = GetShop(domain);
        shop.Locked(() => Webhooks.EmitAppTopic(shop, "shop/redact", WebhookBodies.ShopRedact(shop), AppsOn(shop)));
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
            Webhooks.EmitAppTopic(shop, "customers/redact", WebhookBodies.CustomersRedact(shop, customer, ordersToRedact ?? orders), AppsOn(shop));
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
                WebhookBodies.CustomersDataRequest(shop, customer, ordersRequested ?? orders, dataRequestId ?? Random.Shared.NextInt64(1_000, 1_000_000_000)),
                AppsOn(shop));
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

    /// <summary>True while the token is the shop's, unexpired by <see cref="Clock"/> and not revoked.</summary>
    public bool IsValidToken(string domain, string? accessToken) => Grants.IsValid(domain, accessToken);

    /// <summary>The app a request with this token runs as, or null when the token is not valid; marks the token used.</summary>
    internal ShopifyApp? Authenticate(string domain, string? accessToken) => Grants.Authenticate(domain, accessToken);

    /// <summary>
    /// The apps app-level topics go to: the default app, every app with a subscription on the shop, and every
    /// app holding a token there (an installed app hears of privacy requests even without subscriptions).
    /// Caller holds the shop's gate.
    /// </summary>
    private List<ShopifyApp> AppsOn(Shop shop) =>
        new[] { DefaultApp }.Concat(shop.WebhookList.Select(OwnerOf)).Concat(Grants.InstalledApps(shop.MyshopifyDomain)).Distinct().ToList();

    private ShopifyApp OwnerOf(WebhookSubscription webhook) => webhook.App ?? DefaultApp;
}
