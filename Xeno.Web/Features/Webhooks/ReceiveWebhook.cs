using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// <c>POST /webhooks/shopify</c>: verify, store, answer. The HMAC is checked over the raw bytes in
/// constant time, the delivery is written to the inbox (a repeat of its event or webhook id is refused
/// by the database), and processing is queued. Shopify gets its 200 within milliseconds; the work
/// happens on the <c>webhooks</c> queue.
/// </summary>
public static class ReceiveWebhook
{
    public const int MaxBodyBytes = 5 * 1024 * 1024;

    public static async Task<IResult> HandleAsync(HttpContext http, XenoDb db, TenantContext tenant, IBackgroundJobClient jobs,
        ShopifyCredentials credentials, IOptions<ShopifyOptions> options, TimeProvider clock, ILogger<WebhookDelivery> logger, CancellationToken ct)
    {
        var request = http.Request;
        if (request.ContentLength > MaxBodyBytes) return TooLarge();
        var body = await ReadBodyAsync(request, ct);
        if (body is null) return TooLarge();

        // The shop first: the key is the secret of the app that subscribed, which is the store's own app when it was
        // connected with one, and Xeno's app otherwise.
        var knownDomain = ShopDomain.TryNormalize(request.Headers["X-Shopify-Shop-Domain"], out var shopDomain);
        var storeId = knownDomain
            ? await db.Stores.Where(s => s.ShopDomain == shopDomain).Select(s => (Guid?)s.Id).FirstOrDefaultAsync(ct)
            : null;
        string? storeSecret = null;
        if (storeId is { } id)
        {
            tenant.Set(id);
            storeSecret = await credentials.WebhookSecretAsync(db, ct);
        }

        if (!IsAuthentic(body, request.Headers["X-Shopify-Hmac-Sha256"].ToString(), options.Value, storeSecret, clock.GetUtcNow()))
            return TypedResults.Problem(title: "The webhook's HMAC is missing or wrong.", statusCode: StatusCodes.Status401Unauthorized);
        try { using var _ = JsonDocument.Parse(body); }
        catch (JsonException) { return TypedResults.Problem(title: "The webhook body is not JSON.", statusCode: StatusCodes.Status400BadRequest); }

        var topic = request.Headers["X-Shopify-Topic"].ToString().Trim().ToLowerInvariant();
        if (topic.Length is 0 or > 100)
            return TypedResults.Problem(title: "X-Shopify-Topic is missing.", statusCode: StatusCodes.Status400BadRequest);
        if (!knownDomain)
            return TypedResults.Problem(title: "X-Shopify-Shop-Domain is missing or not a myshopify.com domain.", statusCode: StatusCodes.Status400BadRequest);
        if (storeId is null) return TypedResults.Ok(); // a shop no account connected: nothing of it is kept

        var delivery = new WebhookDelivery
        {
            Id = Guid.CreateVersion7(), TenantId = storeId.Value, Topic = topic, ShopDomain = shopDomain,
            EventId = Header(request, "X-Shopify-Event-Id"), WebhookId = Header(request, "X-Shopify-Webhook-Id"),
            TriggeredAt = DateTimeOffset.TryParse(Header(request, "X-Shopify-Triggered-At"), out var t) ? t.ToUniversalTime() : null,
            ApiVersion = Header(request, "X-Shopify-API-Version"), Body = Encoding.UTF8.GetString(body),
            ReceivedAt = clock.GetUtcNow(), Status = WebhookTopics.IsHandled(topic) ? "pending" : "ignored",
        };
        // ON CONFLICT DO NOTHING covers both unique indexes: ten copies at once store one row.
        var stored = await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO webhook_deliveries (id, tenant_id, topic, shop_domain, event_id, webhook_id, triggered_at, api_version, body, received_at, status, attempts)
            VALUES ({delivery.Id}, {delivery.TenantId}, {delivery.Topic}, {delivery.ShopDomain}, {delivery.EventId}, {delivery.WebhookId},
                    {delivery.TriggeredAt}, {delivery.ApiVersion}, {delivery.Body}, {delivery.ReceivedAt}, {delivery.Status}, 0)
            ON CONFLICT DO NOTHING
            """, ct);
        if (stored == 0 || delivery.Status == "ignored") return TypedResults.Ok();

        // If queueing fails the delivery is still stored; the sweeper queues it again (ProcessWebhook.SweepAsync).
        try { jobs.Enqueue<ProcessWebhook>(job => job.RunAsync(storeId.Value, delivery.Id, CancellationToken.None)); }
        catch (Exception e) { logger.LogWarning(e, "Webhook {DeliveryId} stored but not queued; the sweeper will queue it", delivery.Id); }
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
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static string? Header(HttpRequest request, string name) =>
        request.Headers[name].ToString() is { Length: > 0 and <= 200 } value ? value : null;

    private static IResult TooLarge() =>
        TypedResults.Problem(title: "The webhook body is over 5 MiB.", statusCode: StatusCodes.Status413PayloadTooLarge);
}
