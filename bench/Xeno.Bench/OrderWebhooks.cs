using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Xeno.ShopifyServer.Model;

namespace Xeno.Bench;

/// <summary>
/// Signed <c>orders/create</c> bodies made from the real fixture (Xeno.Web.Tests/Fixtures/shopify/webhook-orders-create.json):
/// not a test order, a new order id (and line ids) each, dated at the given instant in the shop's zone, with its first
/// line's price varied so that totals differ. The fixture is serialized once with placeholders that are replaced per
/// body (cheap), then signed: base64 HMAC-SHA256 of the body with the app's secret.
/// </summary>
internal sealed class OrderWebhooks
{
    private readonly string _template;
    private readonly int _lines;
    private readonly byte[] _key;
    private readonly Shop _shop;

    public OrderWebhooks(Shop shop, string secret)
    {
        _shop = shop;
        _key = Encoding.UTF8.GetBytes(secret);
        var body = JsonNode.Parse(File.ReadAllText(FindFixture("webhook-orders-create.json")))!.AsObject();
        body["id"] = "@ID@";
        body["admin_graphql_api_id"] = "gid://shopify/Order/@GID@";
        body["name"] = "#B@GID@";
        body["test"] = false;
        // The shop's own order status page (Xeno checks the shop id in it against the store's).
        body["order_status_url"] = $"https://{shop.MyshopifyDomain}/{shop.Id.ToString(Fmt.C)}/orders/bench/authenticate?key=bench";
        foreach (var field in new[] { "created_at", "processed_at", "updated_at" }) body[field] = "@AT@";
        var items = body["line_items"]!.AsArray();
        _lines = items.Count;
        for (var i = 0; i < items.Count; i++)
        {
            items[i]!["id"] = $"@L{i}ID@";
            items[i]!["admin_graphql_api_id"] = $"gid://shopify/LineItem/@L{i}GID@";
        }
        items[0]!["price"] = "@PRICE@";
        items[0]!["price_set"]!["shop_money"]!["amount"] = "@PRICE@";
        items[0]!["price_set"]!["presentment_money"]!["amount"] = "@PRICE@";
        _template = body.ToJsonString();
    }

    /// <summary>The body and its X-Shopify-Hmac-Sha256 header value.</summary>
    public (byte[] Body, string Hmac) Make(long orderId, DateTimeOffset at)
    {
        var local = TimeZoneInfo.ConvertTime(at, _shop.TimeZone);
        var id = orderId.ToString(Fmt.C);
        var text = new StringBuilder(_template)
            .Replace("\"@ID@\"", id).Replace("@GID@", id)
            .Replace("@AT@", local.ToString("yyyy-MM-dd'T'HH:mm:sszzz", Fmt.C))
            .Replace("@PRICE@", (10 + orderId % 9000 / 100m).ToString("0.00", Fmt.C));
        for (var i = 0; i < _lines; i++)
        {
            var line = (orderId * 10 + i).ToString(Fmt.C);
            text.Replace($"\"@L{i}ID@\"", line).Replace($"@L{i}GID@", line);
        }
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        return (bytes, Convert.ToBase64String(HMACSHA256.HashData(_key, bytes)));
    }

    public static string FindFixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Xeno.Web.Tests", "Fixtures", "shopify", name);
            if (File.Exists(candidate)) return candidate;
        }
        var fromCwd = Path.Combine(Directory.GetCurrentDirectory(), "Xeno.Web.Tests", "Fixtures", "shopify", name);
        return File.Exists(fromCwd) ? fromCwd : throw new FileNotFoundException($"The fixture {name} was not found above {AppContext.BaseDirectory}.");
    }
}
