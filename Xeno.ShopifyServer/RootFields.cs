using GraphQL;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>The root query and mutation fields this fake serves; any other root field answers an error.</summary>
internal static class RootFields
{
    public static object? Query(IResolveFieldContext ctx, string field)
    {
        var request = GraphResolvers.RequestContext(ctx);
        var shop = request.Shop;
        return field switch
        {
            "shop" => shop,
            "orders" => shop.OrderList,
            "customers" => shop.CustomerList,
            "products" => shop.ProductList,
            "productVariants" => shop.ProductList.SelectMany(p => p.Variants).ToList(),
            "abandonedCheckouts" => shop.CheckoutList,
            "webhookSubscriptions" => Webhooks(ctx, request),
            "order" or "customer" or "product" or "productVariant" or "webhookSubscription" or "abandonedCheckout" =>
                FindNode(request, ctx.GetArgument<string>("id")) is GraphModel model && model.GraphTypeName == char.ToUpperInvariant(field[0]) + field[1..] ? model : null,
            "node" => FindNode(request, ctx.GetArgument<string>("id")),
            "nodes" => ctx.GetArgument<List<object?>>("ids").Select(id => FindNode(request, id?.ToString() ?? "")).ToList(),
            "ordersCount" => Count(ctx, shop, shop.OrderList),
            "customersCount" => Count(ctx, shop, shop.CustomerList),
            "productsCount" => Count(ctx, shop, shop.ProductList),
            "abandonedCheckoutsCount" => Count(ctx, shop, shop.CheckoutList),
            "webhookSubscriptionsCount" => Count(ctx, shop, OwnWebhooks(request)),
            "bulkOperation" => BulkFields.Find(request, ctx.GetArgument<string>("id")),
            "currentBulkOperation" => BulkFields.Current(ctx, request),
            "bulkOperations" => BulkFields.List(request),
            _ => throw new ShopifyExecutionError($"Xeno.ShopifyServer does not serve QueryRoot.{field}.", "NOT_IMPLEMENTED"),
        };
    }

    public static object? Mutation(IResolveFieldContext ctx, string field)
    {
        var request = GraphResolvers.RequestContext(ctx);
        return field switch
        {
            "webhookSubscriptionCreate" => CreateWebhook(ctx, request),
            "webhookSubscriptionUpdate" => UpdateWebhook(ctx, request),
            "webhookSubscriptionDelete" => DeleteWebhook(ctx, request),
            "bulkOperationRunQuery" => BulkFields.RunQuery(ctx, request),
            "bulkOperationCancel" => BulkFields.Cancel(ctx, request),
            _ => throw new ShopifyExecutionError($"Xeno.ShopifyServer does not serve Mutation.{field}.", "NOT_IMPLEMENTED"),
        };
    }

    /// <summary>
    /// A node by GID, except another app's webhook subscription or bulk operation: on Shopify an app sees only its
    /// own. Subscriptions made outside the API (no app) count as the default app's.
    /// </summary>
    private static object? FindNode(ShopifyRequestContext request, string gid)
    {
        if (gid.StartsWith("gid://shopify/BulkOperation/", StringComparison.Ordinal))
            return BulkFields.Find(request, gid);
        return request.Shop.FindNode(gid) is var node && (node is not WebhookSubscription webhook || Owns(request, webhook)) ? node : null;
    }

    private static bool Owns(ShopifyRequestContext request, WebhookSubscription webhook) =>
        webhook.App == request.App || (webhook.App is null && request.App == request.Shop.Webhooks?.DefaultApp);

    private static IEnumerable<WebhookSubscription> OwnWebhooks(ShopifyRequestContext request) =>
        request.Shop.WebhookList.Where(w => Owns(request, w));

    private static IEnumerable<WebhookSubscription> Webhooks(IResolveFieldContext ctx, ShopifyRequestContext request)
    {
        var webhooks = OwnWebhooks(request);
        if (ctx.GetArgument<List<object?>?>("topics") is { } topics)
            webhooks = webhooks.Where(w => topics.Any(t => t?.ToString() == w.Topic));
        if ((ctx.GetArgument<string?>("uri") ?? ctx.GetArgument<string?>("callbackUrl")) is { } uri)
            webhooks = webhooks.Where(w => w.Uri == uri);
        return webhooks.ToList();
    }

    private static GraphObject Count(IResolveFieldContext ctx, Shop shop, IEnumerable<GraphModel> items)
    {
        var search = SearchQuery.Parse(ctx.GetArgument<string?>("query"), shop.TimeZone);
        var limit = ctx.GetArgument<int?>("limit");
        var count = items.Count(search.Matches);
        var capped = limit is { } l && count > l;
        return new GraphObject("Count", new() { ["count"] = capped ? limit : count, ["precision"] = capped ? "AT_LEAST" : "EXACT" });
    }

    private static GraphObject CreateWebhook(IResolveFieldContext ctx, ShopifyRequestContext request)
    {
        var shop = request.Shop;
        var topic = ctx.GetArgument<object>("topic").ToString()!;
        var input = ctx.GetArgument<Dictionary<string, object?>>("webhookSubscription");
        var uri = (input.GetValueOrDefault("uri") ?? input.GetValueOrDefault("callbackUrl"))?.ToString();
        if (string.IsNullOrWhiteSpace(uri))
            return WebhookPayload("WebhookSubscriptionCreatePayload", null, ("webhookSubscription.callbackUrl", "Address can't be blank"));
        if (OwnWebhooks(request).Any(w => w.Topic == topic && w.Uri == uri))
            return WebhookPayload("WebhookSubscriptionCreatePayload", null, ("webhookSubscription.callbackUrl", "Address for this topic has already been taken"));
        var now = shop.Now;
        var webhook = new WebhookSubscription
        {
            Id = shop.NextId("WebhookSubscription"),
            Topic = topic,
            Uri = uri,
            CreatedAt = now,
            UpdatedAt = now,
            App = request.App,
        };
        Apply(webhook, input);
        shop.WebhookList.Add(webhook);
        return WebhookPayload("WebhookSubscriptionCreatePayload", webhook);
    }

    private static GraphObject UpdateWebhook(IResolveFieldContext ctx, ShopifyRequestContext request)
    {
        var shop = request.Shop;
        if (FindNode(request, ctx.GetArgument<string>("id")) is not WebhookSubscription webhook)
            return WebhookPayload("WebhookSubscriptionUpdatePayload", null, ("id", "Webhook subscription does not exist"));
        var input = ctx.GetArgument<Dictionary<string, object?>>("webhookSubscription");
        if ((input.GetValueOrDefault("uri") ?? input.GetValueOrDefault("callbackUrl"))?.ToString() is { Length: > 0 } uri)
            webhook.Uri = uri;
        Apply(webhook, input);
        webhook.UpdatedAt = shop.Now;
        return WebhookPayload("WebhookSubscriptionUpdatePayload", webhook);
    }

    private static void Apply(WebhookSubscription webhook, Dictionary<string, object?> input)
    {
        if (input.GetValueOrDefault("format") is { } format)
            webhook.Format = format.ToString()!;
        if (input.GetValueOrDefault("filter") is string filter)
            webhook.Filter = filter;
        if (input.GetValueOrDefault("name") is string name)
            webhook.Name = name;
        if (input.GetValueOrDefault("includeFields") is IEnumerable<object?> fields)
            webhook.IncludeFields = fields.Select(f => f?.ToString() ?? "").ToList();
        if (input.GetValueOrDefault("metafieldNamespaces") is IEnumerable<object?> namespaces)
            webhook.MetafieldNamespaces = namespaces.Select(f => f?.ToString() ?? "").ToList();
    }

    private static GraphObject DeleteWebhook(IResolveFieldContext ctx, ShopifyRequestContext request)
    {
        var shop = request.Shop;
        var id = ctx.GetArgument<string>("id");
        var webhook = FindNode(request, id) as WebhookSubscription;
        if (webhook is null)
            return new GraphObject("WebhookSubscriptionDeletePayload", new()
            {
                ["deletedWebhookSubscriptionId"] = null,
                ["userErrors"] = new List<object> { UserError(("id", "Webhook subscription does not exist")) },
            });
        shop.WebhookList.Remove(webhook);
        return new GraphObject("WebhookSubscriptionDeletePayload", new()
        {
            ["deletedWebhookSubscriptionId"] = webhook.Gid,
            ["userErrors"] = new List<object>(),
        });
    }

    private static GraphObject WebhookPayload(string type, WebhookSubscription? webhook, params (string Field, string Message)[] errors) =>
        new(type, new()
        {
            ["webhookSubscription"] = webhook,
            ["userErrors"] = errors.Select(UserError).ToList(),
        });

    private static object UserError((string Field, string Message) error) =>
        new GraphObject("UserError", new() { ["field"] = error.Field.Split('.').ToList(), ["message"] = error.Message });
}
