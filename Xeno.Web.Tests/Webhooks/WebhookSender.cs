using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Webhooks;

/// <summary>Signed deliveries as Shopify sends them, and bodies built from the real fixtures.</summary>
internal static class WebhookSender
{
    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "shopify");

    public static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(FixtureDir, name));

    public static async Task<HttpStatusCode> PostAsync(XenoFixture fixture, string shop, string topic, byte[] body,
        string? eventId = null, string? webhookId = null, string secret = XenoFixture.WebhookSecret, DateTimeOffset? triggeredAt = null)
    {
        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Shopify-Topic", topic);
        request.Headers.Add("X-Shopify-Shop-Domain", shop);
        request.Headers.Add("X-Shopify-API-Version", "2026-10");
        request.Headers.Add("X-Shopify-Webhook-Id", webhookId ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Event-Id", eventId ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Triggered-At", (triggeredAt ?? DateTimeOffset.UtcNow).ToString("O"));
        request.Headers.Add("X-Shopify-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));
        return (await client.SendAsync(request)).StatusCode;
    }

    /// <summary>The real orders/create body as order <paramref name="id"/> (its line ids derived from it, unique per
    /// shop as on Shopify) with a total of its own.</summary>
    public static byte[] Order(long id, decimal total)
    {
        var body = WithoutShopUrl(JsonNode.Parse(Fixture("webhook-orders-create.json"))!);
        body["id"] = id;
        body["admin_graphql_api_id"] = $"gid://shopify/Order/{id}";
        var amount = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        body["total_price"] = amount;
        body["total_price_set"]!["shop_money"]!["amount"] = amount;
        var line = 0;
        foreach (var item in body["line_items"]!.AsArray())
        {
            var lineId = id * 100 + line++;
            item!["id"] = lineId;
            item["admin_graphql_api_id"] = $"gid://shopify/LineItem/{lineId}";
        }
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    /// <summary>The fixture's order names its own shop (548380009) in <c>order_status_url</c>, which Xeno checks against
    /// the store's: a body made for a test shop leaves it out, as if that shop's own.</summary>
    public static JsonNode WithoutShopUrl(JsonNode body)
    {
        (body as JsonObject)?.Remove("order_status_url");
        return body;
    }

    /// <summary>Bytes of a JSON body without the fixture shop's <c>order_status_url</c>; anything else as it is.</summary>
    public static byte[] WithoutShopUrl(byte[] body)
    {
        try { return JsonNode.Parse(body) is JsonObject o && o.ContainsKey("order_status_url") ? Encoding.UTF8.GetBytes(WithoutShopUrl(o).ToJsonString()) : body; }
        catch (System.Text.Json.JsonException) { return body; }
    }

    /// <summary>customers/data_request: each one applied adds a row, so it shows a delivery applied twice.</summary>
    public static byte[] DataRequest(string shop, long requestId, long customerId)
    {
        var body = JsonNode.Parse(Fixture("webhook-customers-data-request.json"))!;
        body["shop_domain"] = shop;
        body["data_request"]!["id"] = requestId;
        body["customer"]!["id"] = customerId;
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    /// <summary>A fixture whose shop_domain (privacy topics) names <paramref name="shop"/>, as Shopify's would.</summary>
    public static byte[] ForShop(string fixture, string shop)
    {
        var body = JsonNode.Parse(Fixture(fixture))!;
        body["shop_domain"] = shop;
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    /// <summary>Polls until <paramref name="done"/> holds; throws after a minute (a wait, not a speed check).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> done, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Still waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
