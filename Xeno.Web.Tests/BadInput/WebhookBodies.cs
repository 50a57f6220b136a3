using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Xeno.Web.Tests.BadInput;

/// <summary>Webhook bodies for the properties: the real fixtures, dated today and given fresh ids, then broken in
/// ways Shopify never sends (a field replaced by a value of another type, a field gone) or not JSON at all.</summary>
internal static class WebhookBodies
{
    /// <summary>Handled topics and the fixture each is built from. shop/redact is sent by <see cref="WebhookPropertyTests"/>
    /// only to shops it does not mind losing (it erases the store at once; see the REVIEW in ProcessWebhook).</summary>
    public static readonly (string Topic, string Fixture)[] Topics =
    [
        ("orders/create", "webhook-orders-create.json"), ("orders/updated", "webhook-orders-create.json"),
        ("orders/cancelled", "webhook-orders-create.json"), ("orders/delete", "webhook-orders-delete.json"),
        ("refunds/create", "webhook-refunds-create.json"), ("products/create", "webhook-products-create.json"),
        ("products/update", "webhook-products-create.json"), ("products/delete", "webhook-products-delete.json"),
        ("customers/create", "webhook-customers-create.json"), ("customers/update", "webhook-customers-create.json"),
        ("customers/delete", "webhook-customers-delete.json"), ("checkouts/create", "webhook-checkouts-create.json"),
        ("checkouts/update", "webhook-checkouts-create.json"), ("checkouts/delete", "webhook-checkouts-delete.json"),
        ("carts/create", "webhook-carts-create.json"), ("carts/update", "webhook-carts-update-real-with-properties.json"),
        ("app/uninstalled", "webhook-app-uninstalled.json"), ("customers/data_request", "webhook-customers-data-request.json"),
        ("customers/redact", "webhook-customers-redact.json"), ("bulk_operations/finish", "webhook-bulk-operations-finish.json"),
    ];

    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "shopify");

    private static readonly Dictionary<string, string> Fixtures = Topics.Select(t => t.Fixture).Distinct()
        .ToDictionary(f => f, f => File.ReadAllText(Path.Combine(FixtureDir, f)));

    /// <summary>One change to a JSON body: at the <c>At</c>-th place of the document (counted in document order, modulo
    /// the places there are), replace the value with <c>Raw</c> (JSON text), or remove it.</summary>
    public sealed record Mutation(bool Remove, int At, string Raw);

    public static readonly Gen<Mutation> MutationGen =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 400], Junk.RawValue, (kind, at, raw) => new Mutation(kind == 0, at, raw));

    /// <summary>How the bytes are spoiled once the (possibly mutated) JSON is written.</summary>
    public enum RawDamage { None, Empty, NotJson, Truncated, TrailingGarbage, ByteOrderMark, InvalidUtf8, TopLevelScalar, TooDeep, OverFiveMiB }

    /// <summary>The fixture of <paramref name="fixture"/> as Shopify would send it today (every <c>*_at</c> timestamp
    /// moved to <paramref name="now"/>, so that the data lands in the dashboard's range), with a fresh id, then mutated.</summary>
    public static (byte[] Body, string Description) Build(string fixture, long freshId, DateTimeOffset now, IReadOnlyList<Mutation> mutations,
        RawDamage damage, int damageAt)
    {
        var node = Webhooks.WebhookSender.WithoutShopUrl(JsonNode.Parse(Fixtures[fixture])!);
        Redate(node, now);
        if (node is JsonObject root && root["id"] is JsonValue)
        {
            root["id"] = freshId;
            if (root["admin_graphql_api_id"] is JsonValue gid && gid.ToString().LastIndexOf('/') is > 0 and var slash)
                root["admin_graphql_api_id"] = gid.ToString()[..(slash + 1)] + freshId.ToString(CultureInfo.InvariantCulture);
        }
        var description = new StringBuilder(fixture);
        var raws = new List<string>();
        foreach (var m in mutations)
        {
            var places = new List<(JsonNode Parent, object Key, string Path)>();
            Places(node, "$", places);
            if (places.Count == 0) break;
            var (parent, key, path) = places[m.At % places.Count];
            if (m.Remove)
            {
                if (parent is JsonObject o) o.Remove((string)key); else ((JsonArray)parent).RemoveAt((int)key);
                description.Append($"; remove {path}");
            }
            else
            {
                var placeholder = $"@@junk{raws.Count}@@";
                raws.Add(m.Raw);
                if (parent is JsonObject o) o[(string)key] = placeholder; else ((JsonArray)parent)[(int)key] = placeholder;
                description.Append($"; {path} := {RawRequest.Show(m.Raw.Length > 80 ? m.Raw[..80] + "…" : m.Raw)}");
            }
        }
        var text = node.ToJsonString();
        for (var i = 0; i < raws.Count; i++) text = text.Replace($"\"@@junk{i}@@\"", raws[i]);
        var bytes = Encoding.UTF8.GetBytes(text);

        if (damage != RawDamage.None) description.Append($"; then {damage}");
        switch (damage)
        {
            case RawDamage.Empty: return ([], description.ToString());
            case RawDamage.NotJson: return (Encoding.UTF8.GetBytes("id=1&total=2"), description.ToString());
            case RawDamage.Truncated:
                var cut = 1 + damageAt % Math.Max(1, bytes.Length - 1);
                description.Append($" at byte {cut}");
                return (bytes[..cut], description.ToString());
            case RawDamage.TrailingGarbage: return ([.. bytes, .. "}{,"u8], description.ToString());
            case RawDamage.ByteOrderMark: return ([0xEF, 0xBB, 0xBF, .. bytes], description.ToString());
            case RawDamage.InvalidUtf8:
                // Inside the first string value, where a lenient parser would carry it into the database.
                var quote = Array.IndexOf(bytes, (byte)'"', Array.IndexOf(bytes, (byte)':') + 1);
                return quote < 0 ? ([0xC3, 0x28], description.ToString()) : ([.. bytes[..(quote + 1)], 0xC3, 0x28, 0xFF, .. bytes[(quote + 1)..]], description.ToString());
            case RawDamage.TopLevelScalar: return (Encoding.UTF8.GetBytes(new[] { "1", "\"x\"", "null", "[]", "true" }[damageAt % 5]), description.ToString());
            case RawDamage.TooDeep: return (Encoding.UTF8.GetBytes("{\"id\":1,\"x\":" + Junk.Nested(65 + damageAt % 2000) + "}"), description.ToString());
            case RawDamage.OverFiveMiB:
                var padding = new string(' ', 5 * 1024 * 1024 + 1 - bytes.Length + 1);
                return ([.. bytes[..^1], .. Encoding.ASCII.GetBytes(padding), (byte)'}'], description.ToString());
            default: return (bytes, description.ToString());
        }
    }

    /// <summary>JSON as RFC 8259 has it (any depth), which is what "not JSON" is measured against.</summary>
    public static bool IsJson(byte[] body, out int depth)
    {
        depth = 0;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 100_000 });
            while (reader.Read()) depth = Math.Max(depth, reader.CurrentDepth + 1);
            return true;
        }
        catch (JsonException) { return false; }
    }

    private static void Redate(JsonNode? node, DateTimeOffset now)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (key.EndsWith("_at", StringComparison.Ordinal) && value is JsonValue v && v.GetValueKind() == JsonValueKind.String
                        && DateTimeOffset.TryParse(v.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var t))
                        o[key] = now.ToOffset(t.Offset).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
                    else Redate(value, now);
                }
                break;
            case JsonArray a:
                foreach (var item in a) Redate(item, now);
                break;
        }
    }

    private static void Places(JsonNode? node, string path, List<(JsonNode, object, string)> places)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    places.Add((o, key, $"{path}.{key}"));
                    Places(value, $"{path}.{key}", places);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    places.Add((a, i, $"{path}[{i}]"));
                    Places(a[i], $"{path}[{i}]", places);
                }
                break;
        }
    }
}
