using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// <c>POST /webhooks/shopify</c>: verify, store, answer. The HMAC is checked over the raw bytes in constant time with
/// the secret of the shop's store (kept in memory for a few seconds, <see cref="WebhookShops"/>), and the delivery is
/// handed to the inbox (<see cref="WebhookInbox"/>), which commits it together with whatever else arrived meanwhile.
/// The 200 comes after that commit: a delivery answered 200 is stored, and its store is marked for the workers.
/// </summary>
public static class ReceiveWebhook
{
    public const int MaxBodyBytes = 5 * 1024 * 1024;

    public static async Task<IResult> HandleAsync(HttpContext http, WebhookShops shops, WebhookInbox inbox,
        IOptions<ShopifyOptions> options, TimeProvider clock, ILogger<WebhookDelivery> logger, CancellationToken ct)
    {
        var request = http.Request;
        if (request.ContentLength > MaxBodyBytes) return TooLarge();
        var body = await ReadBodyAsync(request, ct);
        if (body is null) return TooLarge();

        // The shop first: the key is the secret of the app that subscribed, which is the store's own app when it was
        // connected with one, and Xeno's app otherwise.
        var knownDomain = ShopDomain.TryNormalize(request.Headers["X-Shopify-Shop-Domain"], out var shopDomain);
        var signature = request.Headers["X-Shopify-Hmac-Sha256"].ToString();
        var (shop, cached) = knownDomain ? await shops.FindAsync(shopDomain) : (null, false);
        var authentic = IsAuthentic(body, signature, options.Value, shop?.Secret, clock.GetUtcNow());
        if (!authentic && cached)
        {
            // The secret in memory may be older than a reconnect that changed it: once more, read afresh.
            shop = await shops.ReloadAsync(shopDomain);
            authentic = IsAuthentic(body, signature, options.Value, shop?.Secret, clock.GetUtcNow());
        }
        if (!authentic)
            return TypedResults.Problem(title: "The webhook's HMAC is missing or wrong.", statusCode: StatusCodes.Status401Unauthorized);
        if (DeliveryChecks.BodyShop.Read(body) is not { } bodyShop)
            return TypedResults.Problem(title: "The webhook body is not JSON.", statusCode: StatusCodes.Status400BadRequest);

        var topic = request.Headers["X-Shopify-Topic"].ToString().Trim().ToLowerInvariant();
        if (topic.Length is 0 or > 100)
            return TypedResults.Problem(title: "X-Shopify-Topic is missing.", statusCode: StatusCodes.Status400BadRequest);
        if (!knownDomain)
            return TypedResults.Problem(title: "X-Shopify-Shop-Domain is missing or not a myshopify.com domain.", statusCode: StatusCodes.Status400BadRequest);
        if (shop is null) return TypedResults.Ok(); // a shop no account connected: nothing of it is kept

        var delivery = new WebhookDelivery
        {
            Id = Guid.CreateVersion7(), TenantId = shop.StoreId, Topic = topic, ShopDomain = shopDomain,
            EventId = Header(request, "X-Shopify-Event-Id"), WebhookId = Header(request, "X-Shopify-Webhook-Id"),
            TriggeredAt = DateTimeOffset.TryParse(Header(request, "X-Shopify-Triggered-At"), out var t) ? t.ToUniversalTime() : null,
            ApiVersion = Header(request, "X-Shopify-API-Version"), Body = Encoding.UTF8.GetString(body),
            ReceivedAt = clock.GetUtcNow(), Status = "pending",
        };
        if (!WebhookTopics.IsHandled(topic))
        {
            delivery.Status = "ignored";
            delivery.IgnoredReason = "Xeno does not handle this topic.";
        }
        else if (DeliveryChecks.ShopMismatch(topic, bodyShop, shopDomain) is { } mismatch)
        {
            // Another shop's body, resent under this shop's name: recorded for the operator, and nothing else. Its body
            // (that shop's data) is not kept, and neither are its event and delivery ids: whoever resent it chose them,
            // and the real delivery that carries them must not be taken for a repeat.
            logger.LogWarning("Webhook {Topic} for {Shop} ignored: {Reason}", topic, shopDomain, mismatch);
            delivery.Status = "ignored";
            delivery.IgnoredReason = mismatch;
            delivery.Body = null;
            delivery.EventId = null;
            delivery.WebhookId = null;
        }
        try
        {
            if (await inbox.StoreAsync(delivery, ct) == WebhookInbox.Outcome.StoreGone)
            {
                // The store was deleted since it was looked up. If the shop was connected again meanwhile, its new store
                // takes the delivery, provided its secret signed it; otherwise, as for any unknown shop, nothing is kept.
                shops.Forget(shopDomain);
                var (current, _) = await shops.FindAsync(shopDomain);
                if (current is null || current.StoreId == shop.StoreId
                    || !IsAuthentic(body, signature, options.Value, current.Secret, clock.GetUtcNow()))
                    return TypedResults.Ok();
                delivery.TenantId = current.StoreId;
                await inbox.StoreAsync(delivery, ct);
            }
        }
        catch (InboxUnavailableException e)
        {
            logger.LogWarning(e, "Webhook {Topic} for {Shop} not stored; answered 503 for Shopify to retry", topic, shopDomain);
            return TypedResults.Problem(title: "The webhook could not be stored; send it again.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        return TypedResults.Ok();
    }

    /// <summary>base64(HMAC-SHA256(raw body, secret)), compared in constant time. The secret is the store's own app's
    /// when it has one, and then only that; otherwise Xeno's app secret, and during a rotation window the previous one too.</summary>
    public static bool IsAuthentic(byte[] body, string? signature, ShopifyOptions options, string? storeSecret, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(signature)) return false;
        byte[] given;
        try { given = Convert.FromBase64String(signature); }
        catch (FormatException) { return false; }

        if (storeSecret is not null) return Matches(body, given, storeSecret);
        // Every secret is tried (no early exit), so the time taken does not say which one matched.
        var valid = false;
        foreach (var secret in options.AppSecrets(now)) valid |= Matches(body, given, secret);
        return valid;
    }

    private static bool Matches(byte[] body, byte[] given, string? secret)
    {
        if (string.IsNullOrEmpty(secret)) return false;
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>The raw bytes, at most <see cref="MaxBodyBytes"/> (null past that, whatever Content-Length said).</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength is { } length)
        {
            // Shopify says how long its body is (checked against the cap already): read it into exactly that many bytes.
            // The server ends the body there; a body that stops short comes back short, and fails the HMAC.
            var body = new byte[length];
            var filled = 0;
            int read;
            while (filled < body.Length && (read = await request.Body.ReadAsync(body.AsMemory(filled), ct)) > 0) filled += read;
            return filled == body.Length ? body : body[..filled];
        }
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes) return null;
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return buffer.ToArray();
    }

    private static string? Header(HttpRequest request, string name) =>
        request.Headers[name].ToString() is { Length: > 0 and <= 200 } value ? value : null;

    private static IResult TooLarge() =>
        TypedResults.Problem(title: "The webhook body is over 5 MiB.", statusCode: StatusCodes.Status413PayloadTooLarge);
}
