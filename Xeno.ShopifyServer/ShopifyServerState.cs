using System.Collections.Concurrent;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>The shops a fake Shopify knows, each with its access tokens. Thread-safe.</summary>
public sealed class ShopifyServerState(TimeProvider? clock = null)
{
    private readonly ConcurrentDictionary<string, Shop> _shops = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _tokens = new(StringComparer.OrdinalIgnoreCase);

    public TimeProvider Clock { get; } = clock ?? TimeProvider.System;

    public IReadOnlyCollection<Shop> Shops => _shops.Values.ToList();

    /// <summary>Adds an empty shop reachable with <paramref name="accessToken"/>.</summary>
    public Shop AddShop(string domain, string name, string currencyCode, string ianaTimezone, string accessToken) =>
        AddShop(new Shop(domain, name, currencyCode, ianaTimezone, Clock), accessToken);

    /// <summary>Adds a shop built elsewhere (e.g. by <see cref="ShopGenerator"/>); it then runs on this state's clock.</summary>
    public Shop AddShop(Shop shop, string accessToken)
    {
        shop.Clock = Clock;
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

    public Shop? FindShop(string domain) => _shops.GetValueOrDefault(domain);

    public Shop GetShop(string domain) => FindShop(domain) ?? throw new KeyNotFoundException($"No shop {domain}.");

    public bool IsValidToken(string domain, string? accessToken) =>
        accessToken is not null && _tokens.TryGetValue(domain, out var tokens) && tokens.ContainsKey(accessToken);
}
