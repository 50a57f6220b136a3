using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Xeno.Web.Infrastructure.Ingestion;

namespace Xeno.Web.Infrastructure.Shopify;

/// <summary>Shopify refused the shop's access token (401/403): the merchant has to reconnect.</summary>
public sealed class ShopifyAuthException(string message) : Exception(message);

/// <summary>Shopify answered with GraphQL errors, with something that is not GraphQL, or not at all.</summary>
public sealed class ShopifyApiException(
    string message, bool isTransient = false, string? errorCode = null, int? statusCode = null,
    bool outcomeUnknown = false, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>Shopify was down, slow, unreachable or kept throttling: the same call may work later.
    /// False when the request itself is wrong (validation, MAX_COST_EXCEEDED, unknown shop).</summary>
    public bool IsTransient { get; } = isTransient;

    /// <summary>Shopify's <c>errors[].extensions.code</c> (first one), e.g. <c>MAX_COST_EXCEEDED</c>.</summary>
    public string? ErrorCode { get; } = errorCode;

    /// <summary>HTTP status of the last answer, when there was one.</summary>
    public int? StatusCode { get; } = statusCode;

    /// <summary>A mutation reached Shopify but its answer was lost (5xx, timeout, dropped connection): it may
    /// have been applied, so read the state back before sending it again.</summary>
    public bool OutcomeUnknown { get; } = outcomeUnknown;
}

/// <summary>Typed client for Shopify's GraphQL Admin API. Every document it sends is a constant in
/// <see cref="ShopifyQueries"/>, validated by a test against Shopify's real schema.</summary>
/// <remarks>Waits ahead of Shopify's cost bucket (<see cref="ShopifyRateLimiter"/>), retries throttling and
/// transient failures of queries, and never retries a mutation unless Shopify certainly did not run it.</remarks>
public sealed partial class ShopifyAdminClient(
    HttpClient http, IOptions<ShopifyOptions> options, ShopifyRateLimiter limiter, TimeProvider time, ILogger<ShopifyAdminClient> logger)
{
    /// <param name="Id">The shop's numeric id (order bodies name it in their order_status_url).</param>
    public sealed record ShopInfo(string Name, string CurrencyCode, string IanaTimezone, string MyshopifyDomain, long? Id = null);

    public async Task<ShopInfo> GetShopAsync(string shopDomain, string accessToken, CancellationToken ct = default)
    {
        var data = await QueryAsync(shopDomain, accessToken, ShopifyQueries.Shop, null, ct);
        var shop = data["shop"] ?? throw new ShopifyApiException("Shopify answered without a shop.");
        return new ShopInfo(
            (string?)shop["name"] ?? shopDomain,
            (string?)shop["currencyCode"] ?? throw new ShopifyApiException("Shopify answered without the shop's currency."),
            (string?)shop["ianaTimezone"] ?? "UTC",
            (string?)shop["myshopifyDomain"] ?? shopDomain,
            (string?)shop["id"] is { } gid ? ShopifyIds.FromGid(gid) : null);
    }

    /// <summary>Runs one GraphQL operation and returns its <c>data</c>.</summary>
    /// <param name="isMutation">Null: decided from the document. A mutation is retried only after THROTTLED or
    /// 429, never after a 5xx, timeout or dropped connection, which may hide a change Shopify did make.</param>
    /// <exception cref="ShopifyAuthException">401/403, at once.</exception>
    /// <exception cref="ShopifyApiException">GraphQL errors at once; transient failures once the tries run out.</exception>
    public async Task<JsonObject> QueryAsync(
        string shopDomain, string accessToken, string document, object? variables, CancellationToken ct, bool? isMutation = null)
    {
        var o = options.Value;
        var mutation = isMutation ?? MutationKeyword().IsMatch(document);
        var failures = 0;
        var throttles = 0;
        while (true)
        {
            Outcome outcome;
            using (var lease = await limiter.AcquireAsync(shopDomain, limiter.KnownCost(document), ct))
                outcome = await SendOnceAsync(shopDomain, accessToken, document, variables, lease, ct);

            switch (outcome)
            {
                case Outcome.Answered answered:
                    return answered.Data;

                case Outcome.Throttled throttled:
                    throttles++;
                    if (throttles > o.MaxThrottledRetries)
                        throw new ShopifyApiException(
                            $"Shopify kept asking Xeno to slow down after {throttles} tries. Xeno will try again later.",
                            isTransient: true, errorCode: "THROTTLED", statusCode: throttled.StatusCode);
                    // Shared through the limiter so that the shop's other callers hold back too.
                    var pause = throttled.RetryAfter ?? (throttled.BucketKnowsWait ? TimeSpan.Zero : Backoff(throttles));
                    if (pause > TimeSpan.Zero)
                        limiter.Pause(shopDomain, pause);
                    logger.LogDebug("Shopify throttled {Shop} (HTTP {Status}); retry {Retry} after {Wait} ms or the bucket's refill",
                        shopDomain, throttled.StatusCode, throttles, (long)pause.TotalMilliseconds);
                    break;

                case Outcome.Failed failed:
                    failures++;
                    if (mutation)
                        throw new ShopifyApiException(
                            $"Shopify did not confirm the change ({failed.Problem}); it may or may not have been applied.",
                            isTransient: true, statusCode: failed.StatusCode, outcomeUnknown: true, innerException: failed.Exception);
                    if (failures >= o.MaxAttempts)
                        throw new ShopifyApiException(
                            $"Shopify did not answer after {failures} tries: {failed.Problem}. Xeno will try again later.",
                            isTransient: true, errorCode: failed.ErrorCode, statusCode: failed.StatusCode, innerException: failed.Exception);
                    var delay = Backoff(failures);
                    if (failed.RetryAfter > delay)
                        delay = failed.RetryAfter.Value;
                    logger.LogInformation("Shopify failed for {Shop} ({Problem}); try {Attempt} of {MaxAttempts} in {Wait} ms",
                        shopDomain, failed.Problem, failures + 1, o.MaxAttempts, (long)delay.TotalMilliseconds);
                    await Task.Delay(delay, time, ct);
                    break;
            }
        }
    }

    private async Task<Outcome> SendOnceAsync(
        string shopDomain, string accessToken, string document, object? variables, ShopifyRateLimiter.Lease lease, CancellationToken ct)
    {
        var o = options.Value;
        // Separate from the caller's token: a slow answer is a failed try to retry, a cancelled caller is not.
        using var attemptTimeout = new CancellationTokenSource(o.AttemptTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, attemptTimeout.Token);
        int? status = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, GraphQlUrl(shopDomain))
            {
                Content = JsonContent.Create(new { query = document, variables }),
            };
            request.Headers.Add("X-Shopify-Access-Token", accessToken);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            status = (int)response.StatusCode;

            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                logger.LogInformation("Shopify refused the access token of {Shop} (HTTP {Status})", shopDomain, status);
                throw new ShopifyAuthException("Shopify refused Xeno's access token for this store. Reconnect the store with a valid token.");
            }
            if (response.StatusCode is HttpStatusCode.TooManyRequests)
                return new Outcome.Throttled(status, RetryAfter(response), BucketKnowsWait: false);
            if (status >= 500)
                return new Outcome.Failed($"HTTP {status}", status, RetryAfter(response));
            if (!response.IsSuccessStatusCode)
            {
                var detail = await TryReadErrorsAsync(response, linked.Token);
                throw response.StatusCode == HttpStatusCode.NotFound
                    ? new ShopifyApiException($"Shopify does not know the store {shopDomain} (HTTP 404).", statusCode: status)
                    : new ShopifyApiException($"Shopify refused the request (HTTP {status}){detail}.", statusCode: status);
            }

            var bytes = await response.Content.ReadAsByteArrayAsync(linked.Token);
            JsonObject? body;
            try { body = JsonNode.Parse(bytes) as JsonObject; }
            catch (JsonException e) { return new Outcome.Failed("its answer was cut off", status, Exception: e); }
            if (body is null)
                return new Outcome.Failed("its answer was empty", status);

            var bucketKnowsWait = ReadCost(body, document, lease);
            var errors = ReadErrors(body["errors"]);
            if (errors.Count == 0)
                return body["data"] is JsonObject data
                    ? new Outcome.Answered(data)
                    : throw new ShopifyApiException("Shopify answered without data.", statusCode: status);

            // Older API versions say "Throttled" without a code.
            if (errors.Any(e => e.Code == "THROTTLED" || (e.Code is null && e.Message == "Throttled")))
                return new Outcome.Throttled(status, RetryAfter: null, bucketKnowsWait);
            if (errors.Any(e => e.Code == "INTERNAL_SERVER_ERROR"))
                return new Outcome.Failed("Shopify reported an internal error", status, ErrorCode: "INTERNAL_SERVER_ERROR");

            var codes = errors.Select(e => e.Code).OfType<string>().Distinct().ToList();
            throw new ShopifyApiException(
                "Shopify refused the query: " + string.Join("; ", errors.Select(e => e.Code is null ? e.Message : $"{e.Message.Trim()} ({e.Code})")),
                errorCode: codes.FirstOrDefault(), statusCode: status);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            // Our per-try timeout, or HttpClient.Timeout if someone configured one shorter.
            return new Outcome.Failed($"no answer within {o.AttemptTimeout.TotalSeconds:0.#} s", status, Exception: e);
        }
        catch (HttpRequestException e)
        {
            return new Outcome.Failed(status is null ? "the connection failed" : "the connection dropped mid-answer", status, Exception: e);
        }
        catch (IOException e)
        {
            return new Outcome.Failed("the connection dropped mid-answer", status, Exception: e);
        }
    }

    /// <summary>Feeds the bucket reading to the limiter and remembers the document's cost. True when the
    /// limiter now knows enough to time the next try itself.</summary>
    private bool ReadCost(JsonObject body, string document, ShopifyRateLimiter.Lease lease)
    {
        if (body["extensions"]?["cost"] is not JsonObject cost)
            return false;
        var requested = Number(cost["requestedQueryCost"]);
        if (requested is { } r)
            limiter.RememberCost(document, (int)Math.Ceiling(r));
        if (cost["throttleStatus"] is not JsonObject throttle
            || Number(throttle["maximumAvailable"]) is not { } maximum
            || Number(throttle["currentlyAvailable"]) is not { } available
            || Number(throttle["restoreRate"]) is not { } restoreRate)
            return false;
        lease.Observe(new ShopifyThrottleStatus(maximum, available, restoreRate));
        // Shopify can throttle while reporting enough points (another app, rounding): then back off instead.
        return requested is { } needed && restoreRate > 0 && needed > available;
    }

    private static double? Number(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<double>(out var number) ? number : null;

    private readonly record struct GraphQlError(string Message, string? Code);

    /// <summary><c>errors</c> is an array in GraphQL answers, but a string or an object in some of Shopify's others.</summary>
    private static List<GraphQlError> ReadErrors(JsonNode? errors) => errors switch
    {
        JsonArray array => array.Select(e => new GraphQlError(
            Text(e?["message"]) ?? Text(e) ?? "unknown error",
            e?["extensions"]?["code"] is JsonValue code && code.TryGetValue<string>(out var c) ? c : null)).ToList(),
        JsonObject obj => obj.Select(p => new GraphQlError($"{p.Key}: {Text(p.Value)}", null)).ToList(),
        JsonValue value => Text(value) is { Length: > 0 } text ? [new GraphQlError(text, null)] : [],
        _ => [],
    };

    private static string? Text(JsonNode? node) =>
        node is null ? null : node is JsonValue value && value.TryGetValue<string>(out var s) ? s : node.ToJsonString();

    private static async Task<string> TryReadErrorsAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var body = JsonNode.Parse(await response.Content.ReadAsByteArrayAsync(ct)) as JsonObject;
            var errors = ReadErrors(body?["errors"]);
            return errors.Count == 0 ? "" : ": " + string.Join("; ", errors.Select(e => e.Message));
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException)
        {
            return "";
        }
    }

    /// <summary>Retry-After as delta-seconds (Shopify sends "2.0", which HttpClient's parser rejects) or an HTTP date.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        TimeSpan? wait = null;
        if (response.Headers.TryGetValues("Retry-After", out var values) && values.FirstOrDefault() is { } raw)
        {
            if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
                wait = TimeSpan.FromSeconds(seconds);
            else if (DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
                wait = date - time.GetUtcNow();
        }
        if (wait is not { } w)
            return null;
        var max = options.Value.MaxRetryAfter;
        return w < TimeSpan.Zero ? TimeSpan.Zero : w > max ? max : w;
    }

    /// <summary>Exponential backoff with full jitter, so that many syncs failing together do not retry together.</summary>
    private TimeSpan Backoff(int failure)
    {
        var o = options.Value;
        var ceiling = Math.Min(o.RetryMaxDelay.TotalMilliseconds, o.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failure - 1, 30)));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }

    public Uri GraphQlUrl(string shopDomain)
    {
        var origin = options.Value.ApiBaseUrl.Replace("{shop}", shopDomain).TrimEnd('/');
        return new Uri($"{origin}/admin/api/{options.Value.ApiVersion}/graphql.json");
    }

    // An operation written "mutation Name { … }" on its own line, as every document in ShopifyQueries is.
    [GeneratedRegex(@"^\s*mutation\b", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex MutationKeyword();

    private abstract record Outcome
    {
        public sealed record Answered(JsonObject Data) : Outcome;

        /// <summary>Shopify certainly did not run the operation.</summary>
        public sealed record Throttled(int? StatusCode, TimeSpan? RetryAfter, bool BucketKnowsWait) : Outcome;

        /// <summary>Shopify may have run the operation.</summary>
        public sealed record Failed(string Problem, int? StatusCode, TimeSpan? RetryAfter = null, string? ErrorCode = null, Exception? Exception = null) : Outcome;
    }
}

/// <summary>Every GraphQL document Xeno sends. Kept together so that one test can validate them all
/// against Shopify's schema.</summary>
public static class ShopifyQueries
{
    public const string Shop = """
        query Shop {
          shop { id name currencyCode ianaTimezone myshopifyDomain }
        }
        """;

    // The largest pages Shopify's 1,000-point limit allows (a test validates the cost): nested lists multiply, so an
    // order brings its first 5 lines (more come in a follow-up) and its refunds' ids and dates only (their lines and
    // shipping come from RefundDetails, for the refunds Xeno does not know yet).
    public const int OrdersPageSize = 17;
    public const int ProductsPageSize = 15;
    public const int RefundDetailsPageSize = 20;

    public const string Products = """
        query Products($first: Int!, $after: String, $query: String) {
          products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
            pageInfo { hasNextPage endCursor }
            nodes {
              id title status createdAt updatedAt
              variants(first: 50) { nodes { id title sku price } }
            }
          }
        }
        """;

    public const string Customers = """
        query Customers($first: Int!, $after: String, $query: String) {
          customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
            pageInfo { hasNextPage endCursor }
            nodes {
              id firstName lastName createdAt updatedAt
              defaultEmailAddress { emailAddress }
              defaultPhoneNumber { phoneNumber }
              statistics { rfmGroup }
            }
          }
        }
        """;

    // The line fields both order documents ask for, written once.
    private const string LineItemFragment = """
        fragment XenoLineItem on LineItem {
          id title quantity isGiftCard
          product { id }
          variant { id }
          originalUnitPriceSet { shopMoney { amount } }
          discountAllocations { allocatedAmountSet { shopMoney { amount } } }
        }
        """;

    public const string Orders = $$"""
        query Orders($first: Int!, $after: String, $query: String) {
          orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
            pageInfo { hasNextPage endCursor }
            nodes {
              id name createdAt updatedAt processedAt cancelledAt test currencyCode presentmentCurrencyCode
              customer { id }
              totalPriceSet { shopMoney { amount } presentmentMoney { amount } }
              currentTotalPriceSet { shopMoney { amount } }
              totalShippingPriceSet { shopMoney { amount } }
              totalTaxSet { shopMoney { amount } }
              totalDiscountsSet { shopMoney { amount } }
              lineItems(first: 5) {
                pageInfo { hasNextPage endCursor }
                nodes { ...XenoLineItem }
              }
              refunds { id createdAt }
            }
          }
        }
        {{LineItemFragment}}
        """;

    /// <summary>The rest of an order's line items, when it has more than one page holds.</summary>
    public const string OrderLineItems = $$"""
        query OrderLineItems($id: ID!, $after: String) {
          order(id: $id) {
            lineItems(first: 50, after: $after) {
              pageInfo { hasNextPage endCursor }
              nodes { ...XenoLineItem }
            }
          }
        }
        {{LineItemFragment}}
        """;

    // The lines and shipping of refunds known by id only. A refund with more lines than the first page is read on
    // with RefundLineItems; shipping lines beyond the page likewise.
    private const string RefundLineFields = """
        quantity
        lineItem { id }
        subtotalSet { shopMoney { amount } }
        totalTaxSet { shopMoney { amount } }
        """;

    public const string RefundDetails = $$"""
        query RefundDetails($ids: [ID!]!) {
          nodes(ids: $ids) {
            ... on Refund {
              id createdAt
              order { id }
              refundLineItems(first: 5) { pageInfo { hasNextPage endCursor } nodes { {{RefundLineFields}} } }
              refundShippingLines(first: 2) {
                pageInfo { hasNextPage }
                nodes { subtotalAmountSet { shopMoney { amount } } taxAmountSet { shopMoney { amount } } }
              }
            }
          }
        }
        """;

    public const string RefundLineItems = $$"""
        query RefundLineItems($id: ID!, $after: String) {
          node(id: $id) {
            ... on Refund {
              refundLineItems(first: 50, after: $after) { pageInfo { hasNextPage endCursor } nodes { {{RefundLineFields}} } }
              refundShippingLines(first: 50) {
                nodes { subtotalAmountSet { shopMoney { amount } } taxAmountSet { shopMoney { amount } } }
              }
            }
          }
        }
        """;

    public const string BulkRunQuery = """
        mutation BulkRunQuery($query: String!) {
          bulkOperationRunQuery(query: $query) {
            bulkOperation { id status }
            userErrors { field message code }
          }
        }
        """;

    public const string BulkOperationStatus = """
        query BulkOperationStatus($id: ID!) {
          node(id: $id) {
            ... on BulkOperation { id status errorCode objectCount rootObjectCount fileSize url partialDataUrl }
          }
        }
        """;

    public const string AbandonedCheckouts = """
        query AbandonedCheckouts($first: Int!, $after: String, $query: String) {
          abandonedCheckouts(first: $first, after: $after, query: $query, sortKey: ID) {
            pageInfo { hasNextPage endCursor }
            nodes {
              id createdAt updatedAt completedAt
              customer { id }
              totalPriceSet { shopMoney { amount } }
            }
          }
        }
        """;

    public const string WebhookSubscriptionCreate = """
        mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
          webhookSubscriptionCreate(topic: $topic, webhookSubscription: { uri: $uri, format: JSON }) {
            webhookSubscription { id topic uri }
            userErrors { field message }
          }
        }
        """;

    public const string WebhookSubscriptions = """
        query WebhookSubscriptions {
          webhookSubscriptions(first: 100) {
            nodes { id topic uri createdAt }
          }
        }
        """;

    public static IEnumerable<(string Name, string Document)> All() =>
        typeof(ShopifyQueries).GetFields().Where(f => f.IsLiteral && f.IsPublic && f.FieldType == typeof(string))
            .Select(f => (f.Name, (string)f.GetRawConstantValue()!));
}

/// <summary>
/// The queries of a full sync's bulk operations (no cost limit, one connection level below the top; a bulk file cannot
/// hold a connection inside a list, so refunds come with their ids and dates only). Children, such as an order's line
/// items, arrive as lines of their own carrying <c>__parentId</c>.
/// </summary>
public static class ShopifyBulkQueries
{
    public const string Products = """
        { products { edges { node {
          id title status createdAt updatedAt
          variants { edges { node { id title sku price } } }
        } } } }
        """;

    public const string Customers = """
        { customers { edges { node {
          id firstName lastName createdAt updatedAt
          defaultEmailAddress { emailAddress }
          defaultPhoneNumber { phoneNumber }
          statistics { rfmGroup }
        } } } }
        """;

    public const string Orders = """
        { orders { edges { node {
          id name createdAt updatedAt processedAt cancelledAt test currencyCode presentmentCurrencyCode
          customer { id }
          totalPriceSet { shopMoney { amount } presentmentMoney { amount } }
          currentTotalPriceSet { shopMoney { amount } }
          totalShippingPriceSet { shopMoney { amount } }
          totalTaxSet { shopMoney { amount } }
          totalDiscountsSet { shopMoney { amount } }
          refunds { id createdAt }
          lineItems { edges { node {
            id title quantity isGiftCard
            product { id }
            variant { id }
            originalUnitPriceSet { shopMoney { amount } }
            discountAllocations { allocatedAmountSet { shopMoney { amount } } }
          } } }
        } } } }
        """;

    public const string AbandonedCheckouts = """
        { abandonedCheckouts { edges { node {
          id createdAt updatedAt completedAt
          customer { id }
          totalPriceSet { shopMoney { amount } }
        } } } }
        """;

    /// <summary>The query of each kind a sync fetches (the names of <see cref="Features.Sync.SyncJob.Kinds"/>).</summary>
    public static string For(string kind) => kind switch
    {
        "products" => Products,
        "customers" => Customers,
        "orders" => Orders,
        "abandonedCheckouts" => AbandonedCheckouts,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}

public static class ShopifySetup
{
    public static WebApplicationBuilder AddXenoShopify(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<ShopifyOptions>(builder.Configuration.GetSection("Shopify"));
        builder.Services.TryAddSingleton(TimeProvider.System);
        // One per process: every caller for a shop must see the same bucket.
        builder.Services.TryAddSingleton<ShopifyRateLimiter>();
        // ShopifyOptions.AttemptTimeout bounds each try; HttpClient's own timeout would cut across retries.
        builder.Services.AddHttpClient<ShopifyAdminClient>(c => c.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddHttpClient<ShopifyOAuthClient>(c => c.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddScoped<ShopifyCredentials>();
        return builder;
    }
}
