using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// The store a webhook's shop domain belongs to and the secret its webhooks are signed with, kept for a few seconds so
/// that a busy shop costs intake no database read per delivery. Only stores are kept: a domain no account connected is
/// looked up every time, so a store connected a moment ago receives its very first webhook. Concurrent requests for one
/// domain share one read.
/// </summary>
public sealed class WebhookShops(IServiceScopeFactory scopes, TimeProvider clock)
{
    /// <summary>A connected store and its own app's secret (null: Xeno's app signs its webhooks).</summary>
    public sealed record Shop(Guid StoreId, string? Secret);

    /// <summary>Long enough to spare the database under a burst, short enough that a changed secret or a deleted store
    /// is noticed at once in practice (and a failing HMAC re-reads anyway, see <see cref="ReloadAsync"/>).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);

    private sealed class Entry(Func<Task<Shop?>> read, DateTimeOffset expires)
    {
        private readonly Lazy<Task<Shop?>> _lookup = new(read);
        public Task<Shop?> Lookup => _lookup.Value;
        public DateTimeOffset Expires { get; } = expires;
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The shop's store, or null when no account connected it. <c>Cached</c>: the answer was read before this
    /// request came, so its secret may be stale.</summary>
    public async Task<(Shop? Shop, bool Cached)> FindAsync(string shopDomain)
    {
        if (_entries.TryGetValue(shopDomain, out var entry) && entry.Expires > clock.GetUtcNow())
        {
            var cached = entry.Lookup.IsCompleted;
            return (await ResolveAsync(shopDomain, entry), cached);
        }
        return (await ResolveAsync(shopDomain, Replace(shopDomain, entry)), false);
    }

    /// <summary>Reads the shop again after its cached secret failed an HMAC: a reconnect may have changed the secret, or
    /// the store. Requests failing together share one read.</summary>
    public Task<Shop?> ReloadAsync(string shopDomain)
    {
        _entries.TryGetValue(shopDomain, out var current);
        return ResolveAsync(shopDomain, current is { Lookup.IsCompleted: false } ? current : Replace(shopDomain, current));
    }

    /// <summary>Forgets the shop, so that the next delivery reads it afresh (its store has gone).</summary>
    public void Forget(string shopDomain) => _entries.TryRemove(shopDomain, out _);

    /// <summary>A new read in place of <paramref name="stale"/>; when another request replaced it first, that one.</summary>
    private Entry Replace(string shopDomain, Entry? stale)
    {
        var fresh = new Entry(() => ReadAsync(shopDomain), clock.GetUtcNow() + Lifetime);
        return stale is not null && _entries.TryUpdate(shopDomain, fresh, stale) ? fresh : _entries.GetOrAdd(shopDomain, fresh);
    }

    private async Task<Shop?> ResolveAsync(string shopDomain, Entry entry)
    {
        Shop? shop = null;
        try { return shop = await entry.Lookup; }
        finally
        {
            // Unknown shops and failed reads are never kept.
            if (shop is null) _entries.TryRemove(new KeyValuePair<string, Entry>(shopDomain, entry));
        }
    }

    private async Task<Shop?> ReadAsync(string shopDomain)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
        // Not the caller's token: a read several requests share must not end because one of them went away.
        var storeId = await db.Stores.Where(s => s.ShopDomain == shopDomain).Select(s => (Guid?)s.Id).FirstOrDefaultAsync();
        if (storeId is not { } id) return null;
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(id);
        var secret = await scope.ServiceProvider.GetRequiredService<ShopifyCredentials>().WebhookSecretAsync(db, CancellationToken.None);
        return new Shop(id, secret);
    }
}
