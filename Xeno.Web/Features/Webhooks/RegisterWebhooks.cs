using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Webhooks;

/// <summary>Subscribes the store to every topic Xeno handles, pointing at <c>{App__PublicUrl}/webhooks/shopify</c>.
/// Subscriptions that exist already are left alone, so "Repair webhooks" can run any number of times.</summary>
public static class RegisterWebhooks
{
    public sealed record Subscription(string Topic, string Uri);

    public static string? CallbackUrl(IConfiguration config) =>
        config["App:PublicUrl"] is { Length: > 0 } url ? url.TrimEnd('/') + "/webhooks/shopify" : null;

    public static async Task<IReadOnlyList<Subscription>> ListAsync(XenoDb db, ShopifyAdminClient shopify, IDataProtectionProvider protection, CancellationToken ct)
    {
        var (shop, token) = await CredentialsAsync(db, protection, ct);
        var data = await shopify.QueryAsync(shop, token, ShopifyQueries.WebhookSubscriptions, null, ct);
        return (data["webhookSubscriptions"]?["nodes"] as JsonArray ?? [])
            .Select(n => new Subscription((string?)n?["topic"] ?? "", (string?)n?["uri"] ?? "")).ToList();
    }

    /// <returns>The topics newly subscribed.</returns>
    public static async Task<int> EnsureAsync(XenoDb db, ShopifyAdminClient shopify, IDataProtectionProvider protection, IConfiguration config, CancellationToken ct)
    {
        if (CallbackUrl(config) is not { } uri) return 0;
        var existing = (await ListAsync(db, shopify, protection, ct)).Where(s => s.Uri == uri).Select(s => s.Topic).ToHashSet();
        var (shop, token) = await CredentialsAsync(db, protection, ct);
        var created = 0;
        foreach (var topic in WebhookTopics.Subscribed.Select(WebhookTopics.ToGraphQlEnum).Where(t => !existing.Contains(t)))
        {
            var data = await shopify.QueryAsync(shop, token, ShopifyQueries.WebhookSubscriptionCreate, new { topic, uri }, ct);
            if (data["webhookSubscriptionCreate"]?["userErrors"] is JsonArray { Count: > 0 } errors)
                throw new ShopifyApiException($"Shopify refused the {topic} subscription: {errors[0]?["message"]}");
            created++;
        }
        return created;
    }

    private static async Task<(string Shop, string Token)> CredentialsAsync(XenoDb db, IDataProtectionProvider protection, CancellationToken ct)
    {
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == db.CurrentTenantId, ct);
        var credential = await db.StoreCredentials.AsNoTracking().FirstAsync(ct);
        return (store.ShopDomain, protection.CreateProtector(ConnectStore.TokenPurpose).Unprotect(credential.EncryptedAccessToken));
    }
}
