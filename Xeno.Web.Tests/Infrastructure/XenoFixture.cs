using System.Net.Http.Json;
using Alba;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xeno.ShopifyServer;
using Xeno.Web.Features.Auth;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Tests.Infrastructure;

/// <summary>
/// One Xeno host for the whole run, on a real PostgreSQL (a private cluster in a temp folder unless
/// XENO_TEST_DB names one) and a Shopify-compatible server on loopback. Each test makes its own
/// users and shops, so tests do not depend on each other or on their order.
/// </summary>
public sealed class XenoFixture : IAsyncLifetime
{
    private PrivatePostgres? _postgres;

    /// <summary>The private cluster, when the tests started one (null with XENO_TEST_DB).</summary>
    public PrivatePostgres? Postgres => _postgres;

    public IAlbaHost Host { get; private set; } = null!;
    /// <summary>Where Xeno's host exports its OpenTelemetry signals during the run.</summary>
    public TestCollector Collector { get; } = new();
    /// <summary>Every log line Xeno's host has written during the run.</summary>
    public CapturingLoggerProvider Logs { get; } = new();
    public ShopifyTestServer Shopify { get; private set; } = null!;
    public string OwnerConnectionString { get; private set; } = "";
    public string AppConnectionString => Host.Services.GetRequiredService<DatabaseConnections>().App;
    public string SecretsConnectionString => Host.Services.GetRequiredService<DatabaseConnections>().Secrets;

    public async Task InitializeAsync()
    {
        OwnerConnectionString = Environment.GetEnvironmentVariable("XENO_TEST_DB") ?? "";
        if (OwnerConnectionString == "")
        {
            var dir = Path.Combine(Path.GetTempPath(), "xeno-test-" + Guid.NewGuid().ToString("N")[..10]);
            _postgres = await PrivatePostgres.StartAsync(dir, deleteOnDispose: true);
            OwnerConnectionString = _postgres.ConnectionString;
        }
        // Webhooks the Shopify server emits reach the in-memory Xeno host through its test handler,
        // which exists only once the host is built: hence a handler bound late.
        var webhooks = new LateBoundHandler();
        Shopify = await ShopifyTestServer.StartAsync(new ShopifyServerState(webhookHandler: webhooks) { AppSecret = WebhookSecret });
        // Xeno is the test server's public app: installs go through its consent, approved at once for these tests.
        Shopify.State.DefaultApp.RedirectUris.Add(PublicUrl + "/auth/shopify/callback");
        Shopify.State.OAuth.AutoApprove = true;
        Host = await AlbaHost.For<Program>(Configure);
        webhooks.Inner = Host.Server.CreateHandler();
    }

    private void Configure(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Xeno", OwnerConnectionString);
        builder.UseSetting("Shopify:ApiBaseUrl", Shopify.ApiBaseUrl);
        builder.UseSetting("Demo:Enabled", "false");
        builder.UseSetting("DataProtection:KeyEncryptionKey", KeyEncryptionKey);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        // OTLP over HTTP to the collector above, exported every half second so that a test need not wait long.
        builder.UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", Collector.Endpoint);
        builder.UseSetting("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        builder.UseSetting("OTEL_BSP_SCHEDULE_DELAY", "500");
        builder.UseSetting("OTEL_BLRP_SCHEDULE_DELAY", "500");
        builder.UseSetting("OTEL_METRIC_EXPORT_INTERVAL", "1000");
        builder.UseSetting("Shopify:ApiSecret", WebhookSecret);
        builder.UseSetting("App:PublicUrl", PublicUrl);
        builder.UseSetting("Shopify:ApiKey", Shopify.State.DefaultApp.ClientId);
        builder.UseSetting("Shopify:PreviousApiSecret", PreviousWebhookSecret);
        builder.UseSetting("Shopify:PreviousApiSecretExpiresAt", DateTimeOffset.UtcNow.AddDays(1).ToString("O"));
        // Every test registers from the same in-memory client; the registration throttle has a test of its own.
        builder.UseSetting("Auth:RegistrationsPerClient", "1000000");
        // Shopify's faults are injected by the thousand here: retry after milliseconds, not seconds.
        builder.UseSetting("Shopify:RetryBaseDelay", "00:00:00.010");
        builder.UseSetting("Shopify:RetryMaxDelay", "00:00:00.200");
        builder.UseSetting("Shopify:AttemptTimeout", "00:00:05");
        // Bulk files of test shops are small: small batches give them several checkpoints to resume from.
        builder.UseSetting("Sync:BulkBatchLines", "250");
    }

    private sealed class LateBoundHandler : HttpMessageHandler
    {
        public HttpMessageHandler? Inner { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
            new HttpMessageInvoker(Inner ?? throw new InvalidOperationException("Xeno's host is not up yet."), disposeHandler: false).SendAsync(request, ct);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Shopify.DisposeAsync();
        await Collector.DisposeAsync();
        if (_postgres is not null) await _postgres.DisposeAsync();
    }

    /// <summary>Xeno's App__PublicUrl in the tests: where Shopify sends webhooks and the install's callback.</summary>
    public const string PublicUrl = "http://xeno.test";
    /// <summary>Xeno's app secret (Shopify__ApiSecret): it signs the test server's webhooks and OAuth callbacks.</summary>
    public const string WebhookSecret = "test-app-secret";
    public const string PreviousWebhookSecret = "rotated-out-secret";
    /// <summary>This run's key-encryption key for the Data Protection key ring (a process sharing the database needs it too).</summary>
    public static readonly string KeyEncryptionKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static string UniqueEmail(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}@example.com";

    /// <summary>A new account, and its API token.</summary>
    public async Task<(string Email, string Token)> RegisterAsync(string password = "correct horse battery")
    {
        var email = UniqueEmail();
        var result = await Host.Scenario(s =>
        {
            s.Post.Json(new { email, password }).ToUrl("/api/v1/auth/register");
            s.StatusCodeShouldBe(201);
        });
        var body = await result.ReadAsJsonAsync<AuthResponse>();
        return (email, body!.Token);
    }

    /// <summary>A shop on the Shopify-compatible server, with a token that works for it.</summary>
    public (string Domain, string Token) NewShop(string name = "Test Shop", string currency = "EUR", string timezone = "Europe/Berlin")
    {
        var domain = $"shop-{Guid.NewGuid():N}"[..20] + ".myshopify.com";
        var token = "shpat_" + Guid.NewGuid().ToString("N");
        Shopify.State.AddShop(domain, name, currency, timezone, token);
        return (domain, token);
    }

    /// <summary>Connects a shop with a pasted token. Tokens of <see cref="NewShop"/> belong to the test server's default
    /// app; pass its secret (<see cref="WebhookSecret"/>) as <paramref name="apiSecret"/> for Xeno to subscribe to its webhooks.</summary>
    public async Task<StoreResponse> ConnectStoreAsync(string apiToken, string domain, string shopToken, string? apiSecret = null)
    {
        var result = await Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = domain, accessToken = shopToken, apiSecret }).ToUrl("/api/v1/stores");
            s.WithBearerToken(apiToken);
            s.StatusCodeShouldBe(201);
        });
        return (await result.ReadAsJsonAsync<StoreResponse>())!;
    }

    public HttpClient CreateClient() => Host.Server.CreateClient();

    /// <summary>Polls the sync API until the store's last run has ended (idle or failed), as a client would.</summary>
    public async Task<Xeno.Web.Features.Sync.GetSyncStatus.Response> WaitForSyncAsync(string apiToken, Guid storeId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(8));
        while (true)
        {
            var result = await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{storeId}/sync"); s.WithBearerToken(apiToken); });
            var status = (await result.ReadAsJsonAsync<Xeno.Web.Features.Sync.GetSyncStatus.Response>())!;
            if (status.State is "idle" or "failed" && status.LastRun is not null) return status;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The sync did not end: {status.State}");
            await Task.Delay(250);
        }
    }

    /// <summary>One value read in SQL as the owner, with the store's tenant set (RLS applies to the owner too); SQL NULL is null.</summary>
    public async Task<object?> ScalarAsync(Guid storeId, string sql)
    {
        await using var conn = new Npgsql.NpgsqlConnection(OwnerConnectionString);
        await conn.OpenAsync();
        await using (var set = new Npgsql.NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", conn))
        {
            set.Parameters.AddWithValue("t", storeId.ToString());
            await set.ExecuteNonQueryAsync();
        }
        await using var cmd = new Npgsql.NpgsqlCommand(sql, conn);
        var value = await cmd.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }
}

[CollectionDefinition(Name)]
public sealed class XenoCollection : ICollectionFixture<XenoFixture>
{
    public const string Name = "xeno";
}
