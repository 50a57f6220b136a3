namespace Xeno.Web.Features.Webhooks;

public static class WebhookTopics
{
    /// <summary>Topics Xeno subscribes to through the API (the GraphQL enum names them in capitals with _).</summary>
    public static readonly string[] Subscribed =
    [
        "orders/create", "orders/updated", "orders/cancelled", "orders/delete", "refunds/create",
        "products/create", "products/update", "products/delete", "customers/create", "customers/update", "customers/delete",
        "checkouts/create", "checkouts/update", "checkouts/delete", "carts/create", "carts/update", "app/uninstalled",
    ];

    /// <summary>The privacy topics every public app must handle; Shopify configures them from the app's TOML.</summary>
    public static readonly string[] Mandatory = ["customers/data_request", "customers/redact", "shop/redact"];

    public static bool IsHandled(string topic) => Subscribed.Contains(topic) || Mandatory.Contains(topic);

    public static string ToGraphQlEnum(string topic) => topic.Replace('/', '_').ToUpperInvariant();
}
