using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// What makes an authentic delivery one Xeno must not apply. The HMAC covers the body and nothing else, so a body
/// signed for one shop can be sent again with another shop's headers (every store verified with Xeno's own app secret
/// accepts the same signatures), and with any <c>X-Shopify-Triggered-At</c>. A body that names its shop must name the
/// shop of the header; privacy topics must name it; they must be fresh; shop/redact must find its store uninstalled for
/// 48 hours, as Shopify sends it. A delivery refused here is recorded (status <c>ignored</c>, with the reason) and
/// changes nothing.
/// </summary>
/// <remarks>Of the resource bodies, an order names its shop: the numeric shop id in its <c>order_status_url</c>, checked
/// against the id Xeno keeps for the store (orders are what the figures are made of). REVIEW: products, customers,
/// refunds and checkouts name no shop, so one signed for a shop that shares Xeno's app secret can still be replayed to
/// another such shop; its ids are the first shop's, so it adds foreign records rather than changing the store's own.
/// Only a check against Shopify (the record's GID on the header's shop) would tell.</remarks>
public static class DeliveryChecks
{
    /// <summary>Shopify retries a delivery for about four hours and may deliver late by up to a day: a privacy request
    /// triggered longer ago than this is a replay, not Shopify.</summary>
    public static readonly TimeSpan PrivacyMaxAge = TimeSpan.FromDays(1);

    /// <summary>Shopify sends shop/redact 48 hours after the uninstall (and not at all after a reinstall).</summary>
    public static readonly TimeSpan ShopRedactDelay = TimeSpan.FromHours(48);

    /// <summary>The shop a body names at its top level: <c>shop_domain</c> (privacy topics) and <c>myshopify_domain</c>
    /// (app/uninstalled, whose body is the shop). <c>Malformed</c>: one of them is there but not a string.</summary>
    public readonly record struct BodyShop(string? ShopDomain, string? MyshopifyDomain, bool HasShopDomain, bool Malformed)
    {
        /// <summary>Reads the top level of a raw body without building a document; null when it is not JSON.</summary>
        public static BodyShop? Read(ReadOnlySpan<byte> body)
        {
            try
            {
                var reader = new Utf8JsonReader(body, isFinalBlock: true, state: default);
                var shop = new BodyShop();
                while (reader.Read())
                {
                    if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1) continue;
                    var isShop = reader.ValueTextEquals("shop_domain"u8);
                    var isMyshopify = !isShop && reader.ValueTextEquals("myshopify_domain"u8);
                    if (!isShop && !isMyshopify) continue;
                    reader.Read();
                    var text = reader.TokenType switch
                    {
                        JsonTokenType.String => TextOf(ref reader),
                        JsonTokenType.Null => null,
                        _ => "",
                    };
                    if (text == "") shop = shop with { Malformed = true };
                    else if (isShop) shop = shop with { ShopDomain = text, HasShopDomain = true };
                    else shop = shop with { MyshopifyDomain = text };
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                }
                return shop;
            }
            catch (JsonException) { return null; }
        }

        /// <summary>The string, or "" (not a text) when its escapes make no valid UTF-16, such as a lone surrogate:
        /// no shop is named that way, and the reader throws rather than return it.</summary>
        private static string TextOf(ref Utf8JsonReader reader)
        {
            try { return reader.GetString()!; }
            catch (InvalidOperationException) { return ""; }
        }

        public static BodyShop From(JsonNode body)
        {
            var top = body as JsonObject;
            JsonNode? shop = top?["shop_domain"], myshopify = top?["myshopify_domain"];
            static bool IsText(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String;
            return new BodyShop(IsText(shop) ? shop!.GetValue<string>() : null, IsText(myshopify) ? myshopify!.GetValue<string>() : null,
                top?.ContainsKey("shop_domain") == true, shop is not null && !IsText(shop) || myshopify is not null && !IsText(myshopify));
        }
    }

    /// <summary>Why a body cannot be the header's shop's, or null when it can.</summary>
    public static string? ShopMismatch(string topic, BodyShop body, string headerDomain)
    {
        if (body.Malformed) return "The body's shop_domain or myshopify_domain is not a text.";
        if (body.HasShopDomain && !SameShop(body.ShopDomain, headerDomain))
            return "The body's shop_domain is not the shop of X-Shopify-Shop-Domain.";
        if (!body.HasShopDomain && WebhookTopics.Mandatory.Contains(topic))
            return "The body of a privacy topic names no shop_domain.";
        if (body.MyshopifyDomain is not null && !SameShop(body.MyshopifyDomain, headerDomain))
            return "The body's myshopify_domain is not the shop of X-Shopify-Shop-Domain.";
        return null;
    }

    private static bool SameShop(string? bodyDomain, string headerDomain) =>
        ShopDomain.TryNormalize(bodyDomain, out var domain) && domain == headerDomain;

    /// <summary>Why a stored delivery is recorded and not applied, or null when it is to be applied. Checked again by the
    /// worker, for deliveries stored before intake checked them and for what only the store's state can tell.</summary>
    public static async Task<string?> RefusalAsync(XenoDb db, WebhookDelivery delivery, JsonNode body, DateTimeOffset now, CancellationToken ct)
    {
        if (ShopMismatch(delivery.Topic, BodyShop.From(body), delivery.ShopDomain) is { } mismatch) return mismatch;
        // FindAsync reads the store once per batch, then from the context.
        if (OrderRun.Takes(delivery.Topic) && OrderShopId(body) is { } named
            && (await db.Stores.FindAsync([delivery.TenantId], ct))?.ShopifyShopId is { } own && named != own)
            return $"The order's order_status_url is of shop {named}, not of the shop of X-Shopify-Shop-Domain.";
        if (!WebhookTopics.Mandatory.Contains(delivery.Topic)) return null;
        if (delivery.TriggeredAt is { } triggered && delivery.ReceivedAt - triggered > PrivacyMaxAge)
            return $"X-Shopify-Triggered-At ({triggered:O}) is more than a day before the delivery arrived: a privacy request is applied only fresh.";
        if (delivery.Topic != "shop/redact") return null;
        var store = await db.Stores.AsNoTracking().Where(s => s.Id == delivery.TenantId)
            .Select(s => new { s.Status, s.UninstalledAt }).FirstOrDefaultAsync(ct);
        if (store is null || store.Status != StoreStatus.Uninstalled || store.UninstalledAt is not { } uninstalledAt)
            return "shop/redact for a store that is installed: Shopify sends it only 48 hours after an uninstall.";
        if (now - uninstalledAt < ShopRedactDelay)
            return $"shop/redact for a store uninstalled at {uninstalledAt:O}, less than 48 hours earlier.";
        return null;
    }

    /// <summary>The shop id an order body's <c>order_status_url</c> names (<c>https://{domain}/{shop id}/orders/…</c>);
    /// null when it names none.</summary>
    public static long? OrderShopId(JsonNode body) =>
        body is JsonObject { } order && order["order_status_url"] is JsonValue url && url.GetValueKind() == JsonValueKind.String
        && Uri.TryCreate(url.GetValue<string>(), UriKind.Absolute, out var uri)
        && uri.Segments is [_, var first, _, ..] && long.TryParse(first.TrimEnd('/'), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? id : null;

    /// <summary>When an app/uninstalled happened: Shopify's Triggered-At (not signed, so trusted only within the day
    /// before the delivery arrived), else its arrival.</summary>
    public static DateTimeOffset UninstalledAt(WebhookDelivery delivery) =>
        delivery.TriggeredAt is { } t && t <= delivery.ReceivedAt && delivery.ReceivedAt - t <= PrivacyMaxAge ? t : delivery.ReceivedAt;
}
