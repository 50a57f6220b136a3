using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xeno.ShopifyServer;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Tests.Shopify;

/// <summary>
/// The client against a real Kestrel fake of Shopify, no database. Delays are shrunk through
/// <see cref="ShopifyOptions"/>; the bucket tests run in real time because the fake's bucket refills in real time.
/// </summary>
public sealed class ShopifyAdminClientTests : IAsyncLifetime
{
    private const string Domain = "resilient.myshopify.com";
    private const string Token = "shpat_resilience_secret_token";

    private const string OrdersPage = """
        query OrdersPage($first: Int!) {
          orders(first: $first) { nodes { id name } }
        }
        """;

    private const string CreateWebhook = """
        mutation CreateWebhook($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) {
          webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
            webhookSubscription { id }
            userErrors { field message }
          }
        }
        """;

    private static readonly object WebhookVariables = new
    {
        topic = "ORDERS_CREATE",
        subscription = new { uri = "https://xeno.example/webhooks/shopify" },
    };

    private ShopifyTestServer _server = null!;
    private Xeno.ShopifyServer.Model.Shop _shop = null!;
    private readonly CountingHandler _counter = new();
    private readonly ListLogger _log = new();
    private readonly ShopifyRateLimiter _limiter = new(TimeProvider.System);

    public async Task InitializeAsync()
    {
        var state = new ShopifyServerState();
        _shop = state.AddShop(ShopGenerator.Generate(7, 40, new ShopGeneratorOptions { Domain = Domain }), Token);
        _server = await ShopifyTestServer.StartAsync(state);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private ShopifyAdminClient Client(Action<ShopifyOptions>? configure = null, HttpMessageHandler? handler = null)
    {
        var options = new ShopifyOptions
        {
            ApiBaseUrl = _server.ApiBaseUrl,
            MaxAttempts = 4,
            RetryBaseDelay = TimeSpan.FromMilliseconds(5),
            RetryMaxDelay = TimeSpan.FromMilliseconds(50),
            AttemptTimeout = TimeSpan.FromSeconds(10),
        };
        configure?.Invoke(options);
        var http = new HttpClient(handler ?? _counter, disposeHandler: false);
        return new ShopifyAdminClient(http, Options.Create(options), _limiter, TimeProvider.System, _log);
    }

    private static Dictionary<string, object?> First(int n) => new() { ["first"] = n };

    [Theory]
    [InlineData(ShopifyFault.Http500)]
    [InlineData(ShopifyFault.Http502)]
    [InlineData(ShopifyFault.Http503)]
    [InlineData(ShopifyFault.Http429)]
    [InlineData(ShopifyFault.Throttled)]
    [InlineData(ShopifyFault.DropConnection)]
    public async Task a_query_is_retried_through_each_fault_kind_and_returns_the_data(ShopifyFault fault)
    {
        _shop.Faults.RetryAfterSeconds = 0;
        _shop.Faults.Enqueue(fault, times: 2);

        var data = await Client().QueryAsync(Domain, Token, OrdersPage, First(5), CancellationToken.None);

        var names = data["orders"]!["nodes"]!.AsArray().Select(n => (string?)n!["name"]).ToList();
        Assert.Equal(_shop.Orders.OrderBy(o => o.Id).Take(5).Select(o => o.Name), names);
        Assert.Equal(3, _counter.Sent);
        // A dropped connection cuts the answer of a query Shopify did run.
        Assert.Equal(fault == ShopifyFault.DropConnection ? 3 : 1, _shop.Requests.Total);
    }

    [Fact]
    public async Task shop_info_comes_through_random_faults_of_every_kind()
    {
        _shop.Faults.Reset(seed: 11);
        _shop.Faults.RetryAfterSeconds = 0;
        _shop.Faults.Http500Probability = 0.1;
        _shop.Faults.Http503Probability = 0.1;
        _shop.Faults.Http429Probability = 0.1;
        _shop.Faults.ThrottledProbability = 0.1;
        _shop.Faults.DropConnectionProbability = 0.1;
        var client = Client(o => o.MaxAttempts = 10);

        for (var i = 0; i < 20; i++)
        {
            var shop = await client.GetShopAsync(Domain, Token);
            Assert.Equal(("Acme Outfitters", "USD"), (shop.Name, shop.CurrencyCode));
        }
        Assert.True(_counter.Sent > 20, "the seeded faults should have forced some retries");
    }

    [Fact]
    public async Task a_429_waits_as_long_as_retry_after_says()
    {
        _shop.Faults.RetryAfterSeconds = 1;
        _shop.Faults.Enqueue(ShopifyFault.Http429);

        var clock = Stopwatch.StartNew();
        await Client().GetShopAsync(Domain, Token);

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(950), TimeSpan.FromSeconds(5));
        Assert.Equal(2, _counter.Sent);
    }

    [Fact]
    public async Task a_slow_answer_times_out_per_try_and_the_next_try_succeeds()
    {
        _shop.Faults.Latency = TimeSpan.FromSeconds(5);
        var client = Client(o => { o.AttemptTimeout = TimeSpan.FromMilliseconds(150); o.MaxAttempts = 8; });

        var call = client.GetShopAsync(Domain, Token);
        await Task.Delay(200);
        _shop.Faults.Latency = TimeSpan.Zero;
        var shop = await call;

        Assert.Equal("USD", shop.CurrencyCode);
        Assert.True(_counter.Sent >= 2);
    }

    [Fact]
    public async Task persistent_failures_end_in_a_transient_error_a_merchant_can_read()
    {
        _shop.Faults.Enqueue(ShopifyFault.Http503, times: 10);

        var error = await Assert.ThrowsAsync<ShopifyApiException>(() => Client(o => o.MaxAttempts = 3).GetShopAsync(Domain, Token));

        Assert.True(error.IsTransient);
        Assert.StartsWith("Shopify did not answer after 3 tries: HTTP 503", error.Message);
        Assert.Equal(3, _counter.Sent);
    }

    [Fact]
    public async Task timeouts_that_never_end_give_up_after_max_attempts()
    {
        _shop.Faults.Latency = TimeSpan.FromSeconds(5);
        var client = Client(o => { o.AttemptTimeout = TimeSpan.FromMilliseconds(100); o.MaxAttempts = 3; });

        var error = await Assert.ThrowsAsync<ShopifyApiException>(() => client.GetShopAsync(Domain, Token));

        Assert.True(error.IsTransient);
        Assert.Contains("after 3 tries: no answer within 0.1 s", error.Message);
        Assert.Equal(3, _counter.Sent);
    }

    [Fact]
    public async Task the_callers_cancellation_is_not_mistaken_for_a_timeout()
    {
        _shop.Faults.Latency = TimeSpan.FromSeconds(5);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client().GetShopAsync(Domain, Token, cts.Token));
        Assert.Equal(1, _counter.Sent);
    }

    [Fact]
    public async Task a_refused_token_throws_auth_at_once()
    {
        await Assert.ThrowsAsync<ShopifyAuthException>(() => Client().GetShopAsync(Domain, "shpat_wrong"));

        Assert.Equal(1, _counter.Sent);
    }

    [Fact]
    public async Task max_cost_exceeded_is_not_retried_and_says_why()
    {
        const string tooCostly = """
            query TooCostly {
              orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } }
            }
            """;

        var error = await Assert.ThrowsAsync<ShopifyApiException>(() => Client().QueryAsync(Domain, Token, tooCostly, null, CancellationToken.None));

        Assert.False(error.IsTransient);
        Assert.Equal("MAX_COST_EXCEEDED", error.ErrorCode);
        Assert.Contains("exceeds the single query max cost limit", error.Message);
        Assert.Contains("(MAX_COST_EXCEEDED)", error.Message);
        Assert.Equal(1, _counter.Sent);
    }

    [Fact]
    public async Task a_validation_error_is_not_retried()
    {
        var error = await Assert.ThrowsAsync<ShopifyApiException>(() =>
            Client().QueryAsync(Domain, Token, "query { shop { nameTypo } }", null, CancellationToken.None));

        Assert.False(error.IsTransient);
        Assert.Contains("nameTypo", error.Message);
        Assert.Equal("undefinedField", error.ErrorCode);
        Assert.Equal(1, _counter.Sent);
    }

    [Fact]
    public async Task a_mutation_is_not_retried_after_a_503()
    {
        _shop.Faults.Enqueue(ShopifyFault.Http503);

        var error = await Assert.ThrowsAsync<ShopifyApiException>(() => Client().QueryAsync(
            Domain, Token, CreateWebhook, WebhookVariables, CancellationToken.None));

        Assert.True(error.OutcomeUnknown);
        Assert.True(error.IsTransient);
        Assert.Equal(1, _counter.Sent);
        Assert.Empty(_shop.WebhookSubscriptions);
    }

    [Fact]
    public async Task a_mutation_is_not_retried_after_a_dropped_connection()
    {
        _shop.Faults.Enqueue(ShopifyFault.DropConnection);

        var error = await Assert.ThrowsAsync<ShopifyApiException>(() => Client().QueryAsync(
            Domain, Token, CreateWebhook, WebhookVariables, CancellationToken.None));

        Assert.True(error.OutcomeUnknown);
        Assert.Equal(1, _counter.Sent);
        Assert.Single(_shop.WebhookSubscriptions); // Shopify did run it: exactly why it must not be sent again
    }

    [Theory]
    [InlineData(ShopifyFault.Throttled)]
    [InlineData(ShopifyFault.Http429)]
    public async Task a_mutation_is_retried_when_shopify_certainly_did_not_run_it(ShopifyFault fault)
    {
        _shop.Faults.RetryAfterSeconds = 0;
        _shop.Faults.Enqueue(fault);

        var data = await Client().QueryAsync(
            Domain, Token, CreateWebhook, WebhookVariables, CancellationToken.None);

        Assert.NotNull(data["webhookSubscriptionCreate"]!["webhookSubscription"]!["id"]);
        Assert.Equal(2, _counter.Sent);
        Assert.Single(_shop.WebhookSubscriptions);
    }

    [Fact]
    public async Task a_tight_bucket_is_waited_for_ahead_of_shopify()
    {
        _shop.RateLimit.Configure(maximumAvailable: 50, restoreRate: 50);
        var client = Client();
        const int queries = 16; // 12 points each: 192 points, 142 more than the bucket holds

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < queries; i++)
        {
            var data = await client.QueryAsync(Domain, Token, OrdersPage, First(10), CancellationToken.None);
            Assert.Equal(10, data["orders"]!["nodes"]!.AsArray().Count);
        }

        Assert.Equal(queries, _shop.Requests.Total);
        Assert.InRange(_counter.Sent - _shop.Requests.Total, 0, 2); // THROTTLED answers are the requests Shopify did not run
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(142.0 / 50 * 0.8), $"took only {clock.Elapsed}: the client did not wait for the bucket");
    }

    [Fact]
    public async Task concurrent_callers_for_one_shop_share_the_bucket()
    {
        _shop.RateLimit.Configure(maximumAvailable: 50, restoreRate: 100);
        const int callers = 6, each = 5; // 30 queries × 12 points = 360, 310 more than the bucket holds

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            var client = Client(); // a fresh typed client per caller, as DI hands out, sharing the singleton limiter
            for (var i = 0; i < each; i++)
                await client.QueryAsync(Domain, Token, OrdersPage, First(10), CancellationToken.None);
        })));

        Assert.Equal(callers * each, _shop.Requests.Total);
        // Before the first answer nobody knows the cost, so the opening burst may overdraw once per caller.
        Assert.InRange(_counter.Sent - _shop.Requests.Total, 0, callers);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(310.0 / 100 * 0.8), $"took only {clock.Elapsed}");
    }

    [Fact]
    public async Task the_limiter_projects_the_bucket_from_the_last_answer()
    {
        // A slow refill, so that a loaded machine taking a second longer cannot move the reading out of range.
        _shop.RateLimit.Configure(maximumAvailable: 1000, restoreRate: 1, currentlyAvailable: 100);

        await Client().QueryAsync(Domain, Token, OrdersPage, First(10), CancellationToken.None);

        Assert.Equal(12, _limiter.KnownCost(OrdersPage));
        Assert.InRange(_limiter.EstimatedAvailable(Domain)!.Value, 88, 110);
    }

    [Fact]
    public async Task logs_name_the_shop_and_status_but_never_the_token()
    {
        _shop.Faults.RetryAfterSeconds = 0;
        foreach (var fault in new[] { ShopifyFault.Http503, ShopifyFault.Http429, ShopifyFault.Throttled, ShopifyFault.DropConnection })
            _shop.Faults.Enqueue(fault);
        await Client(o => o.MaxAttempts = 8).GetShopAsync(Domain, Token);
        await Assert.ThrowsAsync<ShopifyAuthException>(() => Client().GetShopAsync(Domain, Token + "x"));

        Assert.NotEmpty(_log.Lines);
        Assert.Contains(_log.Lines, l => l.Contains(Domain) && l.Contains("503"));
        Assert.DoesNotContain(_log.Lines, l => l.Contains("shpat_"));
    }

    private sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _sent;
        public int Sent => Volatile.Read(ref _sent);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _sent);
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class ListLogger : ILogger<ShopifyAdminClient>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();
        public IReadOnlyCollection<string> Lines => _lines;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue(formatter(state, exception) + " " + exception);
    }
}
