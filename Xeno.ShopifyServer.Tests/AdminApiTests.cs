using System.Globalization;
using System.Text.Json;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer.Tests;

public class AdminApiTests
{
    private const string Token = "shpat_test";

    private static async Task<(ShopifyTestServer Server, Shop Shop, ShopifyApi Api)> StartAsync(int orders, string domain)
    {
        var state = new ShopifyServerState();
        var shop = state.AddShop(ShopGenerator.Generate(11, orders, GeneratorTests.Options(domain)), Token);
        var server = await ShopifyTestServer.StartAsync(state);
        return (server, shop, new ShopifyApi(server, domain, Token));
    }

    [Fact]
    public async Task pagination_returns_every_order_exactly_once()
    {
        var (server, shop, api) = await StartAsync(130, "pages.myshopify.com");
        await using var _ = server;
        using var __ = api;
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = (await api.DataAsync("""
                query($after: String) { orders(first: 50, after: $after, sortKey: UPDATED_AT) {
                  edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }
                """, new { after })).GetProperty("orders");
            seen.AddRange(page.GetProperty("edges").EnumerateArray().Select(e => e.GetProperty("node").GetProperty("id").GetString()!));
            after = page.GetProperty("pageInfo").GetProperty("hasNextPage").GetBoolean() ? page.GetProperty("pageInfo").GetProperty("endCursor").GetString() : null;
        } while (after is not null);

        Assert.Equal(shop.Orders.Count, seen.Count);
        Assert.Equal(shop.Orders.Select(o => o.Gid).Order(), seen.Order());
        Assert.Equal(3, shop.Requests["orders"]);
    }

    [Fact]
    public async Task updated_at_filter_and_reverse_work()
    {
        var (server, shop, api) = await StartAsync(80, "filter.myshopify.com");
        await using var _ = server;
        using var __ = api;
        var threshold = shop.Orders.OrderBy(o => o.UpdatedAt).ElementAt(60).UpdatedAt;
        var iso = threshold.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var expected = shop.Orders.Where(o => o.UpdatedAt >= threshold.AddTicks(-(threshold.Ticks % TimeSpan.TicksPerSecond))).Select(o => o.Gid).Order().ToList();

        foreach (var query in new[] { $"updated_at:>='{iso}'", $"updated_at:>={iso}" })
        {
            var nodes = (await api.DataAsync("query($q: String) { orders(first: 250, query: $q, sortKey: UPDATED_AT) { nodes { id updatedAt } } }", new { q = query }))
                .GetProperty("orders").GetProperty("nodes").EnumerateArray().ToList();
            Assert.Equal(expected, nodes.Select(n => n.GetProperty("id").GetString()!).Order());
            var times = nodes.Select(n => DateTimeOffset.Parse(n.GetProperty("updatedAt").GetString()!, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(times.Order(), times);
        }

        var upper = (await api.DataAsync($"{{ orders(first: 250, query: \"updated_at:<='{iso}'\") {{ nodes {{ id }} }} }}"))
            .GetProperty("orders").GetProperty("nodes").GetArrayLength();
        Assert.Equal(shop.Orders.Count(o => o.UpdatedAt <= threshold.AddTicks(-(threshold.Ticks % TimeSpan.TicksPerSecond)).AddSeconds(1).AddTicks(-1)), upper);

        // A change made after a sync shows up in the next incremental pull.
        var changed = shop.UpdateOrder(shop.Orders[0].Id, o => o.Note = "changed");
        var since = changed.UpdatedAt.AddSeconds(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var recent = (await api.DataAsync($"{{ orders(first: 10, query: \"updated_at:>='{since}'\") {{ nodes {{ id note }} }} }}")).GetProperty("orders").GetProperty("nodes");
        Assert.Contains(recent.EnumerateArray(), n => n.GetProperty("id").GetString() == changed.Gid && n.GetProperty("note").GetString() == "changed");

        var reversed = (await api.DataAsync("{ orders(first: 3, reverse: true, sortKey: PROCESSED_AT) { nodes { id } } }")).GetProperty("orders").GetProperty("nodes");
        Assert.Equal(shop.Orders.OrderByDescending(o => o.ProcessedAt).Take(3).Select(o => o.Gid), reversed.EnumerateArray().Select(n => n.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task orders_answer_the_fields_xeno_reads()
    {
        var (server, shop, api) = await StartAsync(60, "fields.myshopify.com");
        await using var _ = server;
        using var __ = api;
        var refunded = shop.Orders.First(o => o.Refunds.Count > 0);
        var data = await api.DataAsync("""
            query($id: ID!) { order(id: $id) {
              id legacyResourceId name processedAt updatedAt cancelledAt test currencyCode presentmentCurrencyCode displayFinancialStatus
              customer { id defaultEmailAddress { emailAddress } statistics { rfmGroup } }
              totalShippingPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
              totalTaxSet { shopMoney { amount } } totalPriceSet { shopMoney { amount } } currentTotalPriceSet { shopMoney { amount } }
              lineItems(first: 10) { nodes { id quantity currentQuantity isGiftCard
                originalUnitPriceSet { shopMoney { amount } presentmentMoney { amount } }
                discountAllocations { allocatedAmountSet { shopMoney { amount } } }
                product { id title } variant { id } } }
              refunds { id createdAt
                refundLineItems(first: 10) { nodes { quantity lineItem { id } subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } } } }
                refundShippingLines(first: 5) { nodes { subtotalAmountSet { shopMoney { amount } } taxAmountSet { shopMoney { amount } } } } }
              metafield(key: "x") { value }
              fulfillmentsCount { count }
            } }
            """, new { id = refunded.Gid });
        var order = data.GetProperty("order");
        Assert.Equal(refunded.Gid, order.GetProperty("id").GetString());
        Assert.Equal(refunded.Id.ToString(CultureInfo.InvariantCulture), order.GetProperty("legacyResourceId").GetString());
        Assert.Equal(refunded.TotalPriceSet.ShopAmount.ToString(CultureInfo.InvariantCulture), order.GetProperty("totalPriceSet").GetProperty("shopMoney").GetProperty("amount").GetString());
        Assert.EndsWith("Z", order.GetProperty("processedAt").GetString());
        Assert.Equal(refunded.LineItems.Count, order.GetProperty("lineItems").GetProperty("nodes").GetArrayLength());
        Assert.Equal(refunded.Refunds.Count, order.GetProperty("refunds").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, order.GetProperty("metafield").ValueKind);
        Assert.Equal(refunded.Refunds.Sum(r => r.RefundLineItems.Count),
            order.GetProperty("refunds").EnumerateArray().Sum(r => r.GetProperty("refundLineItems").GetProperty("nodes").GetArrayLength()));

        var node = (await api.DataAsync("query($id: ID!) { node(id: $id) { __typename ... on Customer { id } } }", new { id = shop.Customers[0].Gid })).GetProperty("node");
        Assert.Equal("Customer", node.GetProperty("__typename").GetString());

        var checkouts = (await api.DataAsync("{ abandonedCheckouts(first: 5) { nodes { id completedAt createdAt totalPriceSet { shopMoney { amount } } } } customers(first: 5, sortKey: UPDATED_AT) { nodes { id statistics { rfmGroup } } } products(first: 2) { nodes { id title variants(first: 5) { nodes { id price } } } } }"));
        Assert.Equal(5, checkouts.GetProperty("abandonedCheckouts").GetProperty("nodes").GetArrayLength());
    }

    [Fact]
    public async Task webhook_subscriptions_can_be_created_listed_and_deleted()
    {
        var (server, shop, api) = await StartAsync(5, "hooks.myshopify.com");
        await using var _ = server;
        using var __ = api;
        var created = (await api.DataAsync("""
            mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: { uri: "https://xeno.example/webhooks", format: JSON }) {
              webhookSubscription { id topic uri } userErrors { field message } } }
            """)).GetProperty("webhookSubscriptionCreate");
        Assert.Equal(0, created.GetProperty("userErrors").GetArrayLength());
        Assert.Equal("ORDERS_CREATE", created.GetProperty("webhookSubscription").GetProperty("topic").GetString());
        var id = created.GetProperty("webhookSubscription").GetProperty("id").GetString();
        Assert.Single(shop.WebhookSubscriptions);

        var list = (await api.DataAsync("{ webhookSubscriptions(first: 10) { nodes { id topic uri } } }")).GetProperty("webhookSubscriptions").GetProperty("nodes");
        Assert.Equal(id, list[0].GetProperty("id").GetString());

        var deleted = (await api.DataAsync("mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } } }", new { id }))
            .GetProperty("webhookSubscriptionDelete");
        Assert.Equal(id, deleted.GetProperty("deletedWebhookSubscriptionId").GetString());
        Assert.Empty(shop.WebhookSubscriptions);
    }

    [Fact]
    public async Task responses_carry_cost_and_refuse_expensive_queries()
    {
        var (server, _, api) = await StartAsync(30, "cost.myshopify.com");
        await using var _s = server;
        using var __ = api;
        var (status, body, _) = await api.PostAsync("{ orders(first: 10) { nodes { id } } }");
        Assert.Equal(200, status);
        var cost = body.GetProperty("extensions").GetProperty("cost");
        Assert.Equal(12, cost.GetProperty("requestedQueryCost").GetInt32());
        Assert.Equal(12, cost.GetProperty("actualQueryCost").GetInt32());
        var throttle = cost.GetProperty("throttleStatus");
        Assert.Equal(2000, throttle.GetProperty("maximumAvailable").GetDouble());
        Assert.Equal(100, throttle.GetProperty("restoreRate").GetDouble());
        Assert.InRange(throttle.GetProperty("currentlyAvailable").GetDouble(), 1900, 2000);

        var (maxStatus, maxBody, _) = await api.PostAsync("{ orders(first: 250) { nodes { id lineItems(first: 10) { nodes { id } } } } }");
        Assert.Equal(200, maxStatus);
        Assert.False(maxBody.TryGetProperty("data", out _));
        var error = maxBody.GetProperty("errors")[0];
        Assert.Equal("MAX_COST_EXCEEDED", error.GetProperty("extensions").GetProperty("code").GetString());
        Assert.Equal(1000, error.GetProperty("extensions").GetProperty("maxCost").GetInt32());
        Assert.StartsWith("Query cost is 3252, which exceeds the single query max cost limit (1000).", error.GetProperty("message").GetString());

        var (_, tooBig, _) = await api.PostAsync("{ orders(first: 251) { nodes { id } } }");
        Assert.Contains("250", tooBig.GetProperty("errors")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task tight_bucket_throttles_like_shopify()
    {
        var (server, shop, api) = await StartAsync(30, "throttle.myshopify.com");
        await using var _s = server;
        using var __ = api;
        shop.RateLimit.Configure(maximumAvailable: 50, restoreRate: 0.5);
        for (var i = 0; i < 4; i++)
            Assert.Equal(200, (await api.PostAsync("{ orders(first: 10) { nodes { id } } }")).Status);
        var (status, body, _) = await api.PostAsync("{ orders(first: 10) { nodes { id } } }");
        Assert.Equal(200, status);
        Assert.False(body.TryGetProperty("data", out _));
        var error = body.GetProperty("errors")[0];
        Assert.Equal("Throttled", error.GetProperty("message").GetString());
        Assert.Equal("THROTTLED", error.GetProperty("extensions").GetProperty("code").GetString());
        var cost = body.GetProperty("extensions").GetProperty("cost");
        Assert.Equal(12, cost.GetProperty("requestedQueryCost").GetInt32());
        Assert.Equal(JsonValueKind.Null, cost.GetProperty("actualQueryCost").ValueKind);
        Assert.True(cost.GetProperty("throttleStatus").GetProperty("currentlyAvailable").GetDouble() < 12);
        Assert.Equal(4, shop.Requests["orders"]);
    }

    [Fact]
    public async Task faults_fire_as_configured()
    {
        var (server, shop, api) = await StartAsync(5, "faults.myshopify.com");
        await using var _ = server;
        using var __ = api;
        const string query = "{ shop { name } }";

        shop.Faults.Enqueue(ShopifyFault.Http500);
        shop.Faults.Enqueue(ShopifyFault.Http502);
        shop.Faults.Enqueue(ShopifyFault.Http503);
        Assert.Equal(500, (await api.PostAsync(query)).Status);
        var bad = await RawAsync(server, "faults.myshopify.com", query);
        Assert.Equal(502, bad);
        Assert.Equal(503, (await api.PostAsync(query)).Status);

        shop.Faults.RetryAfterSeconds = 2;
        shop.Faults.Enqueue(ShopifyFault.Http429);
        var (status429, _, response429) = await api.PostAsync(query);
        Assert.Equal(429, status429);
        Assert.Equal(TimeSpan.FromSeconds(2), response429.Headers.RetryAfter?.Delta);

        shop.Faults.Enqueue(ShopifyFault.Throttled);
        var (_, throttled, _) = await api.PostAsync(query);
        Assert.Equal("THROTTLED", throttled.GetProperty("errors")[0].GetProperty("extensions").GetProperty("code").GetString());

        shop.Faults.Enqueue(ShopifyFault.DropConnection);
        await Assert.ThrowsAnyAsync<Exception>(() => api.PostAsync(query));

        shop.Faults.Latency = TimeSpan.FromMilliseconds(300);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(200, (await api.PostAsync(query)).Status);
        Assert.True(watch.ElapsedMilliseconds >= 290);

        // Random faults are reproducible: the same seed fails the same requests.
        async Task<string> Pattern()
        {
            shop.Faults.Reset(seed: 5);
            shop.Faults.Http503Probability = 0.5;
            var statuses = new List<int>();
            for (var i = 0; i < 12; i++)
                statuses.Add((await api.PostAsync(query)).Status);
            return string.Join(",", statuses);
        }
        var first = await Pattern();
        Assert.Equal(first, await Pattern());
        Assert.Contains("503", first);
        Assert.Contains("200", first);
    }

    private static async Task<int> RawAsync(ShopifyTestServer server, string domain, string query)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, server.GraphQLUrl(domain)) { Content = System.Net.Http.Json.JsonContent.Create(new { query }) };
        request.Headers.Add("X-Shopify-Access-Token", Token);
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }
}
