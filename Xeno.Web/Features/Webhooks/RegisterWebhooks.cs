using System.Text.Json.Nodes;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Webhooks;

/// <summary>Subscribes the store to every topic Xeno handles, pointing at <c>{App__PublicUrl}/webhooks/shopify</c>.
/// Subscriptions that exist already are left alone, so "Repair webhooks" can run any number of times. A store connected
/// with a pasted token and no API secret is subscribed to nothing: its app signs webhooks with a secret Xeno does not
/// have, so every one of them would be refused.</summary>
public static class RegisterWebhooks
{
    public sealed record Subscription(string Topic, string Uri);

    public static string? CallbackUrl(IConfiguration config) =>
        config["App:PublicUrl"] is { Length: > 0 } url ? url.TrimEnd('/') + "/webhooks/shopify" : null;

    public static async Task<IReadOnlyList<Subscription>> ListAsync(XenoDb db, ShopifyCredentials credentials, CancellationToken ct)
    {
        var data = await credentials.QueryAsync(db.CurrentTenantId!.Value, ShopifyQueries.WebhookSubscriptions, null, ct);
        return (data["webhookSubscriptions"]?["nodes"] as JsonArray ?? [])
            .Select(n => new Subscription((string?)n?["topic"] ?? "", (string?)n?["uri"] ?? "")).ToList();
    }

    /// <returns>The topics newly subscribed.</returns>
    public static async Task<int> EnsureAsync(XenoDb db, ShopifyCredentials credentials, IConfiguration config, CancellationToken ct)
    {
        if (CallbackUrl(config) is not { } uri) return 0;
        if (await ShopifyCredentials.DescribeAsync(db, ct) is not { ReceivesWebhooks: true }) return 0;
        var storeId = db.CurrentTenantId!.Value;
        var existing = (await ListAsync(db, credentials, ct)).Where(s => s.Uri == uri).Select(s => s.Topic).ToHashSet();
        var created = 0;
        foreach (var topic in WebhookTopics.Subscribed.Select(WebhookTopics.ToGraphQlEnum).Where(t => !existing.Contains(t)))
        {
            var data = await credentials.QueryAsync(storeId, ShopifyQueries.WebhookSubscriptionCreate, new { topic, uri }, ct);
            if (data["webhookSubscriptionCreate"]?["userErrors"] is JsonArray { Count: > 0 } errors)
                throw new ShopifyApiException($"Shopify refused the {topic} subscription: {errors[0]?["message"]}");
            created++;
        }
        return created;
    }
}
