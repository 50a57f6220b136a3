using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer.Tests;

/// <summary>Bulk queries over real HTTP: run, poll, download the JSONL, and every rule, limit, switch and webhook.</summary>
public class BulkOperationTests
{
    private const string Token = "shpat_bulk";
    private const string OtherToken = "shpat_other_app";
    private static readonly DateTimeOffset Now = GeneratorTests.Now;

    private const string OrdersQuery = """
        {
          orders(sortKey: PROCESSED_AT) {
            edges {
              node {
                id
                name
                processedAt
                test
                total: totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
                customer { id }
                refunds { id createdAt totalRefundedSet { shopMoney { amount } } }
                lineItems {
                  edges { node { id title quantity sku originalUnitPriceSet { shopMoney { amount } } product { id } } }
                }
              }
            }
          }
        }
        """;

    private sealed class Harness : IAsyncDisposable
    {
        public required ShopifyServerState State { get; init; }
        public required ShopifyTestServer Server { get; init; }
        public required Shop Shop { get; init; }
        public required ShopifyApi Api { get; init; }
        public required ShopifyApp OtherApp { get; init; }
        public required FixedClock Clock { get; init; }
        public HttpClient Http { get; } = new();

        public string Domain => Shop.MyshopifyDomain;

        public ShopifyApi ApiOf(string token) => new(Server, Domain, token);

        /// <summary>The bulkOperationRunQuery payload.</summary>
        public async Task<JsonElement> RunAsync(string query, bool groupObjects = false, ShopifyApi? api = null) =>
            (await (api ?? Api).DataAsync("""
                mutation($query: String!, $group: Boolean!) {
                  bulkOperationRunQuery(query: $query, groupObjects: $group) {
                    bulkOperation { id status type query createdAt objectCount url }
                    userErrors { field message code }
                  }
                }
                """, new { query, group = groupObjects })).GetProperty("bulkOperationRunQuery");

        /// <summary>Starts a query that must be accepted; returns its GID.</summary>
        public async Task<string> StartAsync(string query, bool groupObjects = false, ShopifyApi? api = null)
        {
            var payload = await RunAsync(query, groupObjects, api);
            Assert.Equal("[]", payload.GetProperty("userErrors").GetRawText());
            var operation = payload.GetProperty("bulkOperation");
            Assert.Equal("CREATED", operation.GetProperty("status").GetString());
            return operation.GetProperty("id").GetString()!;
        }

        /// <summary>Polls <c>bulkOperation(id:)</c> (or <c>node(id:)</c>) until the operation has finished.</summary>
        public async Task<JsonElement> PollAsync(string id, bool throughNode = false, ShopifyApi? api = null)
        {
            var query = throughNode
                ? "query($id: ID!) { op: node(id: $id) { ... on BulkOperation { " + Fields + " } } }"
                : "query($id: ID!) { op: bulkOperation(id: $id) { " + Fields + " } }";
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var operation = (await (api ?? Api).DataAsync(query, new { id })).GetProperty("op");
                if (operation.GetProperty("status").GetString() is not ("CREATED" or "RUNNING" or "CANCELING") || DateTime.UtcNow > deadline)
                    return operation;
                await Task.Delay(20);
            }
        }

        public async Task<JsonElement> CompletedAsync(string query, bool groupObjects = false)
        {
            var operation = await PollAsync(await StartAsync(query, groupObjects));
            Assert.Equal("COMPLETED", operation.GetProperty("status").GetString());
            return operation;
        }

        public async Task<byte[]> DownloadAsync(string url)
        {
            using var response = await Http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }

        public async ValueTask DisposeAsync()
        {
            Api.Dispose();
            Http.Dispose();
            await Server.DisposeAsync();
            State.Webhooks.Dispose();
        }
    }

    private const string Fields = "id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl query type";

    private static async Task<Harness> StartAsync(string domain, int orders = 60)
    {
        var clock = new FixedClock(Now);
        var state = new ShopifyServerState(clock);
        var shop = state.AddShop(ShopGenerator.Generate(77, orders, new ShopGeneratorOptions { Now = Now.AddHours(-1), Domain = domain }), Token);
        var other = new ShopifyApp { ClientId = "other-app", ClientSecret = "shpss_other" };
        state.AddApp(other);
        state.AddToken(domain, OtherToken, other);
        var server = await ShopifyTestServer.StartAsync(state);
        return new Harness { State = state, Server = server, Shop = shop, Api = new ShopifyApi(server, domain, Token), OtherApp = other, Clock = clock };
    }

    private static List<JsonElement> Lines(byte[] file)
    {
        var text = Encoding.UTF8.GetString(file);
        Assert.EndsWith("\n", text);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    private static string? ParentOf(JsonElement line) =>
        line.TryGetProperty("__parentId", out var parent) ? parent.GetString() : null;

    private static string Amount(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Every child comes after its parent; returns the lines' positions by id.</summary>
    private static void ChildrenFollowTheirParents(List<JsonElement> lines)
    {
        var seen = new HashSet<string>();
        foreach (var line in lines)
        {
            if (ParentOf(line) is { } parent)
                Assert.Contains(parent, seen);
            if (line.TryGetProperty("id", out var id))
                seen.Add(id.GetString()!);
        }
    }

    [Fact]
    public async Task orders_export_as_shopify_writes_them_with_line_items_as_children_and_refunds_inline()
    {
        await using var h = await StartAsync("bulk-orders.myshopify.com", orders: 120);
        var operation = await h.CompletedAsync(OrdersQuery);
        Assert.Equal("QUERY", operation.GetProperty("type").GetString());
        Assert.Equal(OrdersQuery, operation.GetProperty("query").GetString());
        Assert.Equal(Time(Now), operation.GetProperty("createdAt").GetString());
        Assert.Equal(Time(Now), operation.GetProperty("completedAt").GetString());
        Assert.Equal(JsonValueKind.Null, operation.GetProperty("errorCode").ValueKind);
        Assert.Equal(JsonValueKind.Null, operation.GetProperty("partialDataUrl").ValueKind);
        var url = operation.GetProperty("url").GetString()!;
        Assert.StartsWith(h.Server.Origin + "/bulk-results/", url);
        Assert.EndsWith(".jsonl", url);

        var file = await h.DownloadAsync(url);
        var text = Encoding.UTF8.GetString(file);
        // Shopify's encoder escapes every slash; GIDs and other strings keep their value.
        Assert.Contains("\"gid:\\/\\/shopify\\/Order\\/", text);
        var lines = Lines(file);
        var roots = lines.Where(l => ParentOf(l) is null).ToList();
        var children = lines.Where(l => ParentOf(l) is not null).ToList();

        // Counts are strings (UnsignedInt64) and describe the file exactly.
        Assert.Equal(lines.Count.ToString(CultureInfo.InvariantCulture), operation.GetProperty("objectCount").GetString());
        Assert.Equal(roots.Count.ToString(CultureInfo.InvariantCulture), operation.GetProperty("rootObjectCount").GetString());
        Assert.Equal(file.Length.ToString(CultureInfo.InvariantCulture), operation.GetProperty("fileSize").GetString());

        var orders = h.Shop.Orders.OrderBy(o => o.ProcessedAt).ThenBy(o => o.Id).ToList();
        Assert.Equal(orders.Select(o => o.Gid), roots.Select(r => r.GetProperty("id").GetString()));
        foreach (var (order, line) in orders.Zip(roots))
        {
            Assert.Equal(["id", "name", "processedAt", "test", "total", "customer", "refunds"], line.EnumerateObject().Select(p => p.Name));
            Assert.Equal(order.Name, line.GetProperty("name").GetString());
            Assert.Equal(Time(order.ProcessedAt), line.GetProperty("processedAt").GetString());
            Assert.Equal(order.Test, line.GetProperty("test").GetBoolean());
            var total = line.GetProperty("total");
            Assert.Equal(Amount(order.TotalPriceSet.ShopAmount), total.GetProperty("shopMoney").GetProperty("amount").GetString());
            Assert.Equal(order.CurrencyCode, total.GetProperty("shopMoney").GetProperty("currencyCode").GetString());
            Assert.Equal(Amount(order.TotalPriceSet.PresentmentAmount), total.GetProperty("presentmentMoney").GetProperty("amount").GetString());
            if (order.Customer is null)
                Assert.Equal(JsonValueKind.Null, line.GetProperty("customer").ValueKind);
            else
                Assert.Equal(order.Customer.Gid, line.GetProperty("customer").GetProperty("id").GetString());
            var refunds = line.GetProperty("refunds").EnumerateArray().ToList();
            Assert.Equal(order.Refunds.Select(r => r.Gid), refunds.Select(r => r.GetProperty("id").GetString()));
            Assert.Equal(order.Refunds.Select(r => Amount(r.TotalRefundedSet.ShopAmount)),
                refunds.Select(r => r.GetProperty("totalRefundedSet").GetProperty("shopMoney").GetProperty("amount").GetString()));

            var own = children.Where(c => ParentOf(c) == order.Gid).ToList();
            Assert.Equal(order.LineItems.Select(l => l.Gid), own.Select(c => c.GetProperty("id").GetString()));
            foreach (var (item, child) in order.LineItems.Zip(own))
            {
                Assert.Equal(["id", "title", "quantity", "sku", "originalUnitPriceSet", "product", "__parentId"], child.EnumerateObject().Select(p => p.Name));
                Assert.Equal(item.Quantity, child.GetProperty("quantity").GetInt32());
                Assert.Equal(item.Sku, child.GetProperty("sku").GetString());
                Assert.Equal(Amount(item.OriginalUnitPriceSet.ShopAmount), child.GetProperty("originalUnitPriceSet").GetProperty("shopMoney").GetProperty("amount").GetString());
                Assert.Equal(item.Product?.Gid, child.GetProperty("product").ValueKind == JsonValueKind.Null ? null : child.GetProperty("product").GetProperty("id").GetString());
            }
        }
        Assert.Equal(orders.Sum(o => o.LineItems.Count), children.Count);
        Assert.Contains(children, c => c.GetProperty("sku").ValueKind == JsonValueKind.Null);
        Assert.Contains(roots, r => r.GetProperty("refunds").GetArrayLength() > 0);
        ChildrenFollowTheirParents(lines);
    }

    [Fact]
    public async Task bulk_lines_hold_exactly_what_the_api_answers_for_the_same_selection()
    {
        await using var h = await StartAsync("bulk-same.myshopify.com", orders: 70);
        h.Shop.RateLimit.Configure(maximumAvailable: 1_000_000, restoreRate: 1_000_000);
        const string fragment = "fragment money on MoneyBag { shopMoney { amount currencyCode } presentmentMoney { amount } }";
        const string order = """
            __typename id legacyResourceId name processedAt cancelledAt cancelReason displayFinancialStatus test tags
            subtotal: subtotalPriceSet { ...money }
            taxLines { title rate ratePercentage priceSet { ...money } }
            customer { id firstName statistics { rfmGroup } }
            shippingLine { title code originalPriceSet { ...money } }
            discountCodes
            ... on Order { note email }
            """;
        const string line = "id quantity name isGiftCard discountAllocations { allocatedAmountSet { ...money } } variant { id price }";
        var bulk = Lines(await h.DownloadAsync((await h.CompletedAsync(
            $"{{ orders {{ edges {{ node {{ {order} lineItems {{ edges {{ node {{ {line} }} }} }} }} }} }} }} {fragment}")).GetProperty("url").GetString()!));

        var api = new List<JsonElement>();
        string? after = null;
        do
        {
            var page = (await h.Api.DataAsync($"query($after: String) {{ orders(first: 10, after: $after) {{ nodes {{ {order} lineItems(first: 5) {{ nodes {{ {line} }} }} }} pageInfo {{ hasNextPage endCursor }} }} }} {fragment}",
                new { after })).GetProperty("orders");
            api.AddRange(page.GetProperty("nodes").EnumerateArray());
            after = page.GetProperty("pageInfo").GetProperty("hasNextPage").GetBoolean() ? page.GetProperty("pageInfo").GetProperty("endCursor").GetString() : null;
        } while (after is not null);

        var expected = new List<System.Text.Json.Nodes.JsonNode>();
        foreach (var node in api)
        {
            var parent = System.Text.Json.Nodes.JsonNode.Parse(node.GetRawText())!.AsObject();
            var lines = parent["lineItems"]!["nodes"]!.AsArray().Select(l => l!.DeepClone().AsObject()).ToList();
            parent.Remove("lineItems");
            expected.Add(parent);
            foreach (var child in lines)
            {
                child["__parentId"] = parent["id"]!.GetValue<string>();
                expected.Add(child);
            }
        }
        var actual = bulk.Select(l => System.Text.Json.Nodes.JsonNode.Parse(l.GetRawText())!).ToList();
        // Same objects, same keys in the same order, same values: only the line layout differs.
        string Canonical(System.Text.Json.Nodes.JsonNode node) => node.ToJsonString();
        Assert.Equal(expected.Select(Canonical).Order(StringComparer.Ordinal), actual.Select(Canonical).Order(StringComparer.Ordinal));
        Assert.Contains(actual, n => n["cancelReason"] is not null);
        Assert.Contains(actual, n => n["taxLines"] is System.Text.Json.Nodes.JsonArray { Count: > 0 });
    }

    [Fact]
    public async Task customers_products_with_variants_and_abandoned_checkouts_export_too()
    {
        await using var h = await StartAsync("bulk-kinds.myshopify.com");
        h.Shop.UpdateCustomer(h.Shop.Customers[0].Id, c => c.FirstName = "Zoë/Ann");

        var customersFile = await h.DownloadAsync((await h.CompletedAsync("""
            { customers { edges { node { id firstName email: defaultEmailAddress { address: emailAddress } statistics { rfmGroup } numberOfOrders amountSpent { amount } } } } }
            """)).GetProperty("url").GetString()!);
        // Non-ASCII goes out as UTF-8 and slashes escaped, as Shopify writes them.
        Assert.Contains("\"firstName\":\"Zoë\\/Ann\"", Encoding.UTF8.GetString(customersFile));
        var customers = Lines(customersFile);
        Assert.Equal(h.Shop.Customers.Select(c => c.Gid), customers.Select(c => c.GetProperty("id").GetString()));
        foreach (var (customer, line) in h.Shop.Customers.Zip(customers))
        {
            Assert.Equal(customer.FirstName, line.GetProperty("firstName").GetString());
            Assert.Equal(customer.Email, line.GetProperty("email").ValueKind == JsonValueKind.Null ? null : line.GetProperty("email").GetProperty("address").GetString());
            Assert.Equal(customer.Statistics.RfmGroup, line.GetProperty("statistics").GetProperty("rfmGroup").GetString());
            Assert.Equal(customer.NumberOfOrders.ToString(CultureInfo.InvariantCulture), line.GetProperty("numberOfOrders").GetString());
            Assert.Equal(Amount(customer.AmountSpent.Amount), line.GetProperty("amountSpent").GetProperty("amount").GetString());
        }

        var products = Lines(await h.DownloadAsync((await h.CompletedAsync("""
            { products { edges { node { id title status variants { edges { node { id sku price } } } } } } }
            """, groupObjects: true)).GetProperty("url").GetString()!));
        var expected = h.Shop.Products.SelectMany(p => new[] { p.Gid }.Concat(p.Variants.Select(v => v.Gid))).ToList();
        Assert.Equal(expected, products.Select(l => l.GetProperty("id").GetString()));
        foreach (var variant in h.Shop.Products.SelectMany(p => p.Variants))
        {
            var line = products.Single(l => l.GetProperty("id").GetString() == variant.Gid);
            Assert.Equal(variant.Product.Gid, ParentOf(line));
            Assert.Equal(Amount(variant.Price), line.GetProperty("price").GetString());
        }

        var checkouts = Lines(await h.DownloadAsync((await h.CompletedAsync("""
            { abandonedCheckouts { edges { node { id createdAt completedAt customer { id } totalPriceSet { shopMoney { amount } }
                lineItems { edges { node { id quantity title } } } } } } }
            """)).GetProperty("url").GetString()!));
        var checkoutRoots = checkouts.Where(l => ParentOf(l) is null).ToList();
        Assert.Equal(h.Shop.AbandonedCheckouts.Select(c => c.Gid), checkoutRoots.Select(c => c.GetProperty("id").GetString()));
        foreach (var (checkout, line) in h.Shop.AbandonedCheckouts.Zip(checkoutRoots))
        {
            Assert.Equal(checkout.CompletedAt is null ? null : Time(checkout.CompletedAt.Value), line.GetProperty("completedAt").GetString());
            Assert.Equal(Amount(checkout.TotalPriceSet.ShopAmount), line.GetProperty("totalPriceSet").GetProperty("shopMoney").GetProperty("amount").GetString());
            Assert.Equal(checkout.LineItems.Select(l => l.Gid), checkouts.Where(c => ParentOf(c) == checkout.Gid).Select(c => c.GetProperty("id").GetString()));
        }
        ChildrenFollowTheirParents(checkouts);
    }

    public static TheoryData<string, string[]> RefusedQueries => new()
    {
        { "{ shop { name } }", ["Bulk queries must contain at least one connection."] },
        { "{ orders { edges { node { id } } } customers { edges { node { id } } } }", ["Bulk queries must contain exactly one top-level field."] },
        {
            "{ products { edges { node { id variants { edges { node { id } } } metafields { edges { node { id } } } collections { edges { node { id } } } media { edges { node { id } } } sellingPlanGroups { edges { node { id } } } } } } }",
            ["Bulk queries cannot contain more than 5 connections."]
        },
        {
            "{ collections { edges { node { id products { edges { node { id variants { edges { node { id } } } } } } } } } }",
            ["Bulk queries cannot contain connections with a nesting depth greater than 2."]
        },
        {
            "{ orders { edges { node { id refunds { refundLineItems { edges { node { id } } } } } } } }",
            ["Queries that contain a connection field within a list field are not currently supported."]
        },
        {
            "{ orders { nodes { id refunds { refundLineItems { nodes { id } } } } } }",
            [
                "All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: 'orders { edges { node {'. Selecting via 'nodes' is not supported. Invalid connection fields: 'orders', 'refundLineItems'.",
                "Queries that contain a connection field within a list field are not currently supported.",
            ]
        },
        {
            "{ products { edges { node { title variants { edges { node { id } } } } } } }",
            ["The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': products."]
        },
        {
            "{ products { edges { node { productId: id variants { edges { node { id } } } } } } }",
            ["The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': products."]
        },
        { "{ node(id: \"gid://shopify/Product/1\") { id } }", ["Bulk queries cannot contain a top level `node` field.", "Bulk queries must contain at least one connection."] },
        { "mutation { webhookSubscriptionDelete(id: \"gid://shopify/WebhookSubscription/1\") { deletedWebhookSubscriptionId } }", ["Invalid operation type. Only `query` operations are supported."] },
        { "{ orders { edges { node { id bogus } } } }", ["Invalid bulk query: Field 'bogus' doesn't exist on type 'Order'"] },
    };

    [Theory]
    [MemberData(nameof(RefusedQueries))]
    public async Task every_bulk_rule_answers_shopifys_user_error(string query, string[] messages)
    {
        await using var h = await StartAsync("bulk-rules.myshopify.com", orders: 5);
        var (status, body, _) = await h.Api.PostAsync("mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { field message code } } }", new { q = query });
        Assert.Equal(200, status);
        var payload = body.GetProperty("data").GetProperty("bulkOperationRunQuery");
        Assert.Equal(JsonValueKind.Null, payload.GetProperty("bulkOperation").ValueKind);
        var errors = payload.GetProperty("userErrors").EnumerateArray().ToList();
        Assert.Equal(messages, errors.Select(e => e.GetProperty("message").GetString()));
        Assert.All(errors, e => Assert.Equal("""["query"]""", e.GetProperty("field").GetRawText()));
        Assert.All(errors, e => Assert.Equal("INVALID", e.GetProperty("code").GetString()));
        Assert.Equal(10, body.GetProperty("extensions").GetProperty("cost").GetProperty("requestedQueryCost").GetInt32());
        Assert.Empty(h.Shop.Bulk.Operations);
    }

    [Fact]
    public async Task a_syntax_error_is_a_user_error_and_bulk_queries_have_no_cost_limit()
    {
        await using var h = await StartAsync("bulk-syntax.myshopify.com", orders: 5);
        var broken = (await h.RunAsync("{ orders { edges ")).GetProperty("userErrors");
        Assert.StartsWith("Invalid bulk query: ", broken[0].GetProperty("message").GetString());
        Assert.Equal("INVALID", broken[0].GetProperty("code").GetString());

        // Far above the 1,000-point limit of a normal query; first/after are ignored, every item is exported.
        const string expensive = "{ orders(first: 250) { edges { node { id lineItems(first: 1) { edges { node { id } } } } } } }";
        Assert.Contains("MAX_COST_EXCEEDED", (await h.Api.PostAsync(expensive)).Body.GetRawText());
        var lines = Lines(await h.DownloadAsync((await h.CompletedAsync(expensive)).GetProperty("url").GetString()!));
        Assert.Equal(h.Shop.Orders.Sum(o => 1 + o.LineItems.Count), lines.Count);
    }

    [Fact]
    public async Task five_bulk_queries_may_run_at_once_per_app_and_a_sixth_is_refused()
    {
        await using var h = await StartAsync("bulk-limit.myshopify.com", orders: 5);
        h.Shop.Bulk.ProcessingDelay = TimeSpan.FromMinutes(5);
        const string query = "{ orders { edges { node { id } } } }";
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add(await h.StartAsync(query));

        var (_, body, _) = await h.Api.PostAsync("mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { field message code } } }", new { q = query });
        var payload = body.GetProperty("data").GetProperty("bulkOperationRunQuery");
        Assert.Equal(JsonValueKind.Null, payload.GetProperty("bulkOperation").ValueKind);
        var error = Assert.Single(payload.GetProperty("userErrors").EnumerateArray());
        Assert.Equal($"A bulk query operation for this app and shop is already in progress: {ids[^1]}.", error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("field").ValueKind);
        Assert.Equal("OPERATION_IN_PROGRESS", error.GetProperty("code").GetString());
        Assert.Equal(10, body.GetProperty("extensions").GetProperty("cost").GetProperty("actualQueryCost").GetInt32());

        // The limit is per app: another app runs its own.
        using var other = h.ApiOf(OtherToken);
        await h.StartAsync(query, api: other);

        var current = (await h.Api.DataAsync("{ currentBulkOperation { id status } }")).GetProperty("currentBulkOperation");
        Assert.Equal(ids[^1], current.GetProperty("id").GetString());
        Assert.Contains(current.GetProperty("status").GetString(), new[] { "CREATED", "RUNNING" });

        // A finished one frees its slot.
        await h.Api.DataAsync("mutation($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }", new { id = ids[0] });
        Assert.Equal("CANCELED", (await h.PollAsync(ids[0])).GetProperty("status").GetString());
        await h.StartAsync(query);
    }

    [Fact]
    public async Task ungrouped_files_interleave_children_after_their_parents_and_grouped_ones_keep_them_together()
    {
        await using var h = await StartAsync("bulk-layout.myshopify.com", orders: 90);
        h.Shop.Bulk.PageSize = 7;
        const string query = "{ orders { edges { node { id name lineItems { edges { node { id quantity } } } } } } }";
        var ungrouped = Lines(await h.DownloadAsync((await h.CompletedAsync(query)).GetProperty("url").GetString()!));
        var grouped = Lines(await h.DownloadAsync((await h.CompletedAsync(query, groupObjects: true)).GetProperty("url").GetString()!));

        Assert.Equal(ungrouped.Select(l => l.GetRawText()).Order(), grouped.Select(l => l.GetRawText()).Order());
        ChildrenFollowTheirParents(ungrouped);
        ChildrenFollowTheirParents(grouped);

        static bool DirectlyAfterParent(List<JsonElement> lines, int index)
        {
            var parent = ParentOf(lines[index]);
            var previous = lines[index - 1];
            return ParentOf(previous) == parent || (previous.TryGetProperty("id", out var id) && id.GetString() == parent);
        }
        var childIndexes = Enumerable.Range(0, grouped.Count).Where(i => ParentOf(grouped[i]) is not null).ToList();
        Assert.All(childIndexes, i => Assert.True(DirectlyAfterParent(grouped, i)));
        Assert.Contains(Enumerable.Range(0, ungrouped.Count).Where(i => ParentOf(ungrouped[i]) is not null), i => !DirectlyAfterParent(ungrouped, i));
    }

    [Fact]
    public async Task a_cut_download_resumes_with_a_range_request()
    {
        await using var h = await StartAsync("bulk-range.myshopify.com", orders: 200);
        var url = (await h.CompletedAsync(OrdersQuery)).GetProperty("url").GetString()!;
        var whole = await h.DownloadAsync(url);

        using (var head = await h.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url)))
        {
            Assert.Equal(whole.Length, head.Content.Headers.ContentLength);
            Assert.Equal("bytes", head.Headers.AcceptRanges.Single());
        }

        h.Shop.Bulk.CutDownloads(1);
        var received = new MemoryStream();
        using (var response = await h.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(whole.Length, response.Content.Headers.ContentLength);
            await using var stream = await response.Content.ReadAsStreamAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => stream.CopyToAsync(received));
        }
        Assert.InRange(received.Length, 1, whole.Length - 1);

        using var resume = new HttpRequestMessage(HttpMethod.Get, url);
        resume.Headers.Range = new RangeHeaderValue(received.Length, null);
        using var rest = await h.Http.SendAsync(resume);
        Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
        Assert.Equal($"bytes {received.Length}-{whole.Length - 1}/{whole.Length}", rest.Content.Headers.ContentRange!.ToString());
        received.Write(await rest.Content.ReadAsByteArrayAsync());
        Assert.Equal(whole, received.ToArray());
    }

    [Fact]
    public async Task results_expire_seven_days_after_completion_and_then_answer_403()
    {
        await using var h = await StartAsync("bulk-expiry.myshopify.com", orders: 10);
        const string query = "{ customers { edges { node { id } } } }";
        var first = await h.CompletedAsync(query);
        var url = first.GetProperty("url").GetString()!;
        await h.DownloadAsync(url);

        h.Clock.Now = Now.AddDays(7).AddMinutes(-1);
        await h.DownloadAsync(url);
        h.Clock.Now = Now.AddDays(7);
        using (var expired = await h.Http.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
            Assert.Contains("<Code>ExpiredToken</Code>", await expired.Content.ReadAsStringAsync());
        }
        Assert.Equal("EXPIRED", (await h.PollAsync(first.GetProperty("id").GetString()!)).GetProperty("status").GetString());

        // The switch expires one at once.
        var second = await h.CompletedAsync(query);
        h.Shop.Bulk.ExpireResults(second.GetProperty("id").GetString()!);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Http.GetAsync(second.GetProperty("url").GetString()!)).StatusCode);
        Assert.Equal("EXPIRED", (await h.PollAsync(second.GetProperty("id").GetString()!, throughNode: true)).GetProperty("status").GetString());

        using var unknown = await h.Http.GetAsync(h.Server.Origin + "/bulk-results/0123456789abcdef0123456789abcdef.jsonl");
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        Assert.Contains("<Code>AccessDenied</Code>", await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task a_failed_operation_offers_a_prefix_of_its_lines_as_partial_data()
    {
        await using var h = await StartAsync("bulk-failure.myshopify.com", orders: 80);
        h.Shop.Bulk.PageSize = 9;
        var whole = Encoding.UTF8.GetString(await h.DownloadAsync((await h.CompletedAsync(OrdersQuery)).GetProperty("url").GetString()!));

        h.Shop.Bulk.FailNext("TIMEOUT", partialFraction: 0.5);
        var failed = await h.PollAsync(await h.StartAsync(OrdersQuery));
        Assert.Equal("FAILED", failed.GetProperty("status").GetString());
        Assert.Equal("TIMEOUT", failed.GetProperty("errorCode").GetString());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("url").ValueKind);
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("fileSize").ValueKind);
        var partial = Encoding.UTF8.GetString(await h.DownloadAsync(failed.GetProperty("partialDataUrl").GetString()!));
        Assert.StartsWith(partial, whole);
        Assert.InRange(partial.Length, 1, whole.Length - 1);
        var partialLines = Lines(Encoding.UTF8.GetBytes(partial));
        Assert.Equal(partialLines.Count.ToString(CultureInfo.InvariantCulture), failed.GetProperty("objectCount").GetString());
        Assert.Equal(h.Shop.Orders.Count / 2, partialLines.Count(l => ParentOf(l) is null));

        h.Shop.Bulk.FailNext("ACCESS_DENIED", partialFraction: 0);
        var denied = await h.PollAsync(await h.StartAsync(OrdersQuery), throughNode: true);
        Assert.Equal("FAILED", denied.GetProperty("status").GetString());
        Assert.Equal("ACCESS_DENIED", denied.GetProperty("errorCode").GetString());
        Assert.Equal(JsonValueKind.Null, denied.GetProperty("partialDataUrl").ValueKind);
        Assert.Throws<ArgumentException>(() => h.Shop.Bulk.FailNext("BROKEN"));
    }

    [Fact]
    public async Task cancel_goes_through_canceling_to_canceled()
    {
        await using var h = await StartAsync("bulk-cancel.myshopify.com", orders: 10);
        h.Shop.Bulk.ProcessingDelay = TimeSpan.FromMinutes(5);
        var id = await h.StartAsync("{ orders { edges { node { id } } } }");
        const string cancel = "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }";

        var canceling = (await h.Api.DataAsync(cancel, new { id })).GetProperty("bulkOperationCancel");
        Assert.Equal("[]", canceling.GetProperty("userErrors").GetRawText());
        Assert.Equal("CANCELING", canceling.GetProperty("bulkOperation").GetProperty("status").GetString());
        var canceled = await h.PollAsync(id);
        Assert.Equal("CANCELED", canceled.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, canceled.GetProperty("url").ValueKind);
        Assert.Equal(Time(Now), canceled.GetProperty("completedAt").GetString());

        var again = (await h.Api.DataAsync(cancel, new { id })).GetProperty("bulkOperationCancel");
        Assert.Equal("A bulk operation cannot be canceled when it is canceled", again.GetProperty("userErrors")[0].GetProperty("message").GetString());
        var unknown = (await h.Api.DataAsync(cancel, new { id = "gid://shopify/BulkOperation/1" })).GetProperty("bulkOperationCancel");
        Assert.Equal(JsonValueKind.Null, unknown.GetProperty("bulkOperation").ValueKind);
        Assert.Equal("Bulk operation does not exist", unknown.GetProperty("userErrors")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task a_finished_operation_sends_bulk_operations_finish_to_its_apps_subscriptions()
    {
        await using var h = await StartAsync("bulk-webhook.myshopify.com", orders: 10);
        await using var receiver = await WebhookReceiver.StartAsync();
        using var other = h.ApiOf(OtherToken);
        const string subscribe = """
            mutation($uri: String!) { webhookSubscriptionCreate(topic: BULK_OPERATIONS_FINISH, webhookSubscription: { uri: $uri }) {
              webhookSubscription { id } userErrors { message } } }
            """;
        await h.Api.DataAsync(subscribe, new { uri = receiver.Url("/mine") });
        await other.DataAsync(subscribe, new { uri = receiver.Url("/other") });

        var completed = await h.CompletedAsync("{ products { edges { node { id } } } }");
        h.Shop.Bulk.FailNext();
        var failed = await h.PollAsync(await h.StartAsync("{ products { edges { node { id } } } }"));
        // A poll may see the status before the webhook is on its way, as on Shopify: wait for both runs' ends.
        await h.Shop.Bulk.WaitAsync(completed.GetProperty("id").GetString()!);
        await h.Shop.Bulk.WaitAsync(failed.GetProperty("id").GetString()!);
        await h.State.FlushWebhooksAsync().WaitAsync(TimeSpan.FromSeconds(20));

        var hooks = receiver.All;
        Assert.Equal(2, hooks.Count);
        Assert.All(hooks, hook =>
        {
            Assert.Equal("/mine", hook.Path);
            Assert.Equal("bulk_operations/finish", hook.Topic);
            Assert.Equal(h.Domain, hook.Headers["X-Shopify-Shop-Domain"]);
            Assert.True(CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(hook.Headers["X-Shopify-Hmac-Sha256"]),
                HMACSHA256.HashData(Encoding.UTF8.GetBytes(h.State.AppSecret), hook.Body)));
            Assert.Contains("gid:\\/\\/shopify\\/BulkOperation\\/", hook.Text);
        });
        var body = JsonDocument.Parse(hooks[0].Body).RootElement;
        Assert.Equal(["admin_graphql_api_id", "completed_at", "created_at", "error_code", "status", "type"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(completed.GetProperty("id").GetString(), body.GetProperty("admin_graphql_api_id").GetString());
        Assert.Equal("completed", body.GetProperty("status").GetString());
        Assert.Equal("query", body.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("error_code").ValueKind);
        // In the shop's zone, as every webhook body.
        Assert.Equal("2026-06-14T20:00:00-04:00", body.GetProperty("created_at").GetString());
        var failure = JsonDocument.Parse(hooks[1].Body).RootElement;
        Assert.Equal(failed.GetProperty("id").GetString(), failure.GetProperty("admin_graphql_api_id").GetString());
        Assert.Equal("failed", failure.GetProperty("status").GetString());
        Assert.Equal("internal_server_error", failure.GetProperty("error_code").GetString());
    }

    [Fact]
    public async Task an_app_sees_only_its_own_bulk_operations()
    {
        await using var h = await StartAsync("bulk-apps.myshopify.com", orders: 10);
        using var other = h.ApiOf(OtherToken);
        var id = (await h.CompletedAsync("{ orders { edges { node { id } } } }")).GetProperty("id").GetString()!;

        var seen = await other.DataAsync("""
            query($id: ID!) { byId: bulkOperation(id: $id) { id } node(id: $id) { id } currentBulkOperation { id }
              bulkOperations(first: 10) { nodes { id } } }
            """, new { id });
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("byId").ValueKind);
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("node").ValueKind);
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("currentBulkOperation").ValueKind);
        Assert.Equal(0, seen.GetProperty("bulkOperations").GetProperty("nodes").GetArrayLength());
        var cancel = (await other.DataAsync("mutation($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }", new { id }))
            .GetProperty("bulkOperationCancel");
        Assert.Equal("Bulk operation does not exist", cancel.GetProperty("userErrors")[0].GetProperty("message").GetString());

        var mine = await h.Api.DataAsync("query($id: ID!) { bulkOperation(id: $id) { id } currentBulkOperation(type: QUERY) { id } }", new { id });
        Assert.Equal(id, mine.GetProperty("bulkOperation").GetProperty("id").GetString());
        Assert.Equal(id, mine.GetProperty("currentBulkOperation").GetProperty("id").GetString());
        Assert.Equal(h.State.DefaultApp.ClientId, h.Shop.Bulk.Find(id)!.AppClientId);
    }

    [Fact]
    public async Task bulk_operations_list_newest_first_and_filter_by_status_and_creation_time()
    {
        await using var h = await StartAsync("bulk-list.myshopify.com", orders: 10);
        const string query = "{ orders { edges { node { id } } } }";
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            h.Clock.Now = Now.AddHours(i);
            if (i == 1)
                h.Shop.Bulk.FailNext();
            ids.Add((await h.PollAsync(await h.StartAsync(query))).GetProperty("id").GetString()!);
        }

        static List<string> Ids(JsonElement data) =>
            data.GetProperty("bulkOperations").GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()!).ToList();
        Assert.Equal([ids[2], ids[1], ids[0]], Ids(await h.Api.DataAsync("{ bulkOperations(first: 10) { nodes { id } } }")));
        Assert.Equal(ids, Ids(await h.Api.DataAsync("{ bulkOperations(first: 10, reverse: true) { nodes { id } } }")));
        Assert.Equal([ids[1]], Ids(await h.Api.DataAsync("{ bulkOperations(first: 10, query: \"status:failed\") { nodes { id } } }")));
        Assert.Equal([ids[2], ids[0]], Ids(await h.Api.DataAsync("{ bulkOperations(first: 10, query: \"status:completed\") { nodes { id } } }")));
        Assert.Equal([ids[2], ids[1]], Ids(await h.Api.DataAsync($"{{ bulkOperations(first: 10, query: \"created_at:>='{Time(Now.AddMinutes(30))}'\") {{ nodes {{ id }} }} }}")));

        var page = (await h.Api.DataAsync("{ bulkOperations(first: 2, sortKey: CREATED_AT) { nodes { id } pageInfo { hasNextPage endCursor } } }")).GetProperty("bulkOperations");
        Assert.True(page.GetProperty("pageInfo").GetProperty("hasNextPage").GetBoolean());
        var rest = await h.Api.DataAsync("query($after: String) { bulkOperations(first: 2, after: $after) { nodes { id } } }",
            new { after = page.GetProperty("pageInfo").GetProperty("endCursor").GetString() });
        Assert.Equal([ids[0]], Ids(rest));
    }
}
