using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// Which stored webhook bodies are about one customer, for customers/redact (which empties or strips them) and
/// customers/data_request (which exports them). A body is the customer's when it is the customer (customers/*), names
/// the customer as its buyer (orders, checkouts, privacy requests), is one of the customer's orders or a refund of one,
/// or carries the customer's email or phone anywhere. Bodies are first narrowed in the database by text, then read.
/// </summary>
public static class CustomerData
{
    /// <summary>The customer, their orders (as Xeno holds them and as the request names them), and their emails and
    /// phones (as the request gives them and as Xeno held them).</summary>
    public sealed record Subject(long CustomerId, IReadOnlySet<long> OrderIds, IReadOnlyCollection<string> Contacts)
    {
        public static Subject Of(long customerId, IEnumerable<long> orderIds, params string?[] contacts) =>
            new(customerId, orderIds.ToHashSet(), contacts.Where(c => !string.IsNullOrWhiteSpace(c)).Select(c => c!).Distinct().ToList());
    }

    /// <summary>The deliveries whose body is about <paramref name="subject"/>, tracked, with their parsed bodies (null for a
    /// body that is not JSON: it mentions the customer, and cannot be told apart).</summary>
    public static async Task<List<(WebhookDelivery Delivery, JsonNode? Body)>> DeliveriesAsync(XenoDb db, Subject subject, bool tracked,
        CancellationToken ct)
    {
        var needles = new[] { subject.CustomerId }.Concat(subject.OrderIds).Select(i => i.ToString(CultureInfo.InvariantCulture))
            .Concat(subject.Contacts).Distinct().ToArray();
        var query = db.WebhookDeliveries.FromSqlInterpolated($"""
            SELECT * FROM webhook_deliveries
            WHERE body IS NOT NULL AND EXISTS (SELECT 1 FROM unnest({needles}::text[]) n WHERE strpos(body, n) > 0)
            """);
        var candidates = await (tracked ? query : query.AsNoTracking()).OrderBy(d => d.ReceivedAt).ToListAsync(ct);
        var found = new List<(WebhookDelivery, JsonNode?)>();
        foreach (var delivery in candidates)
        {
            JsonNode? body;
            try { body = JsonNode.Parse(delivery.Body!); }
            catch (JsonException)
            {
                found.Add((delivery, null));
                continue;
            }
            if (body is not null && Concerns(delivery.Topic, body, subject)) found.Add((delivery, body));
        }
        return found;
    }

    public static bool Concerns(string topic, JsonNode body, Subject subject)
    {
        bool about;
        try { about = IsAbout(topic, body, subject); }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException or ArgumentException) { about = false; }
        return about || Mentions(body, subject);
    }

    private static bool IsAbout(string topic, JsonNode body, Subject subject) =>
        topic switch
        {
            "customers/create" or "customers/update" or "customers/delete" => Id(body) == subject.CustomerId,
            "orders/create" or "orders/updated" or "orders/cancelled" or "orders/delete" =>
                Id(body["customer"]) == subject.CustomerId || Id(body) is { } order && subject.OrderIds.Contains(order),
            "refunds/create" => RestMapping.Long(body["order_id"]) is { } refunded && subject.OrderIds.Contains(refunded),
            "checkouts/create" or "checkouts/update" or "customers/redact" or "customers/data_request" =>
                Id(body["customer"]) == subject.CustomerId,
            _ => false,
        };

    /// <summary>A copy of a body with the personal data taken out (the buyer's names, contact details, addresses, notes,
    /// payment details, and any text naming the customer's email or phone) and everything Xeno applies left in: ids,
    /// amounts, dates, line items. What a delivery not yet applied keeps after customers/redact.</summary>
    public static JsonNode Strip(JsonNode body, Subject subject)
    {
        var copy = body.DeepClone();
        StripNode(copy, subject);
        return copy;
    }

    private static readonly HashSet<string> PersonalFields = new(StringComparer.Ordinal)
    {
        "email", "contact_email", "customer_email", "phone", "first_name", "last_name", "billing_address", "shipping_address",
        "default_address", "addresses", "destination", "browser_ip", "client_details", "note", "note_attributes", "properties",
        "landing_site", "referring_site", "payment_details", "receipt", "credit_card_bin", "credit_card_name", "credit_card_number",
        "email_marketing_consent", "sms_marketing_consent", "tax_exemptions", "company",
    };

    private static void StripNode(JsonNode node, Subject subject)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(p => p.Key).ToList())
                {
                    if (PersonalFields.Contains(key)) o.Remove(key);
                    else if (o[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String && Names(v.GetValue<string>(), subject)) o[key] = null;
                    else if (o[key] is { } child) StripNode(child, subject);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String && Names(v.GetValue<string>(), subject)) a[i] = null;
                    else if (a[i] is { } child) StripNode(child, subject);
                }
                break;
        }
    }

    private static bool Mentions(JsonNode node, Subject subject) => node switch
    {
        JsonObject o => o.Any(p => p.Value is not null && Mentions(p.Value, subject)),
        JsonArray a => a.Any(x => x is not null && Mentions(x, subject)),
        JsonValue v => v.GetValueKind() == JsonValueKind.String && Names(v.GetValue<string>(), subject),
        _ => false,
    };

    private static bool Names(string text, Subject subject) =>
        subject.Contacts.Any(c => text.Contains(c, StringComparison.OrdinalIgnoreCase));

    /// <summary>The record's id, or null when it has none that reads as one.</summary>
    private static long? Id(JsonNode? node)
    {
        if (node is not JsonObject) return null;
        try { return RestMapping.Id(node); }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException or ArgumentException) { return null; }
    }
}
