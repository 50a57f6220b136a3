using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Npgsql;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Features.Auth;
using Xeno.Web.Features.Stores;
using Xeno.Web.Features.Sync;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Tests.Infrastructure;
using Xeno.Web.Tests.Metrics;

namespace Xeno.Web.Tests.Faults;

/// <summary>
/// Xeno as it runs in production, every part a process of its own, on a PostgreSQL cluster and a Shopify-compatible
/// server that belong to the fault tests alone: one web process (API and webhook intake) that stays up, and worker
/// processes each test starts, kills (SIGKILL), stops (SIGTERM) or leaves running. The cluster is restarted under a sync,
/// so it is never the one the other tests share; the Shopify server posts its webhooks over HTTP to the web process.
/// </summary>
public sealed class FaultsFixture : IAsyncLifetime
{
    public const string AppSecret = "faults-app-secret";
    /// <summary>A killed worker's job comes back after this (production waits five minutes).</summary>
    public static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(15);

    private readonly string _jwtKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private int _port;

    public PrivatePostgres Postgres { get; private set; } = null!;
    public ShopifyTestServer Shopify { get; private set; } = null!;
    public XenoProcess Web { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;
    public string OwnerConnectionString => Postgres.ConnectionString;
    public string PublicUrl => $"http://127.0.0.1:{_port}";

    public async Task InitializeAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "xeno-faults-" + Guid.NewGuid().ToString("N")[..10]);
        Postgres = await PrivatePostgres.StartAsync(dir, deleteOnDispose: true);
        Shopify = await ShopifyTestServer.StartAsync(new ShopifyServerState { AppSecret = AppSecret });
        _port = XenoProcess.FreePort();
        Web = await XenoProcess.ServeAsync("--role web", Settings(), _port);
        Api = Web.CreateClient();
        Api.Timeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>What every process of this Xeno is given; a worker may add to it (later settings win).</summary>
    public IEnumerable<(string Key, string Value)> Settings() =>
    [
        ("ASPNETCORE_ENVIRONMENT", "Testing"),
        ("ConnectionStrings__Xeno", OwnerConnectionString),
        ("Jwt__SigningKey", _jwtKey),
        ("DataProtection__KeyEncryptionKey", XenoFixture.KeyEncryptionKey),
        ("App__PublicUrl", PublicUrl),
        ("Shopify__ApiBaseUrl", Shopify.ApiBaseUrl),
        ("Shopify__ApiKey", Shopify.State.DefaultApp.ClientId),
        ("Shopify__ApiSecret", AppSecret),
        ("Shopify__RetryBaseDelay", "00:00:00.010"),
        ("Shopify__RetryMaxDelay", "00:00:00.200"),
        ("Shopify__AttemptTimeout", "00:00:05"),
        ("Auth__RegistrationsPerClient", "1000000"),
        // Small batches: a bulk file is stored over several checkpoints, so a kill falls between two of them.
        ("Sync__BulkBatchLines", "100"),
        ("Jobs__InvisibilityTimeout", InvisibilityTimeout.ToString("c", CultureInfo.InvariantCulture)),
    ];

    /// <summary>Restarts the cluster under every process of this Xeno (see <see cref="PrivatePostgres.RestartAsync"/>); the
    /// tests' own pooled connections to it died with it.</summary>
    public async Task RestartPostgresAsync(TimeSpan downFor)
    {
        await Postgres.RestartAsync(downFor);
        NpgsqlConnection.ClearPool(new NpgsqlConnection(OwnerConnectionString));
    }

    /// <summary>A worker process (Hangfire's sync jobs and the webhook inbox), up and answering its health check.</summary>
    public Task<XenoProcess> StartWorkerAsync(params (string Key, string Value)[] extra) =>
        XenoProcess.ServeAsync("--role worker", Settings().Concat(extra));

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Web.DisposeAsync();
        await Shopify.DisposeAsync();
        await Postgres.DisposeAsync();
    }

    /// <summary>A generated shop on this fixture's Shopify server, its history ending today.</summary>
    public (Shop Shop, string Token) GeneratedShop(int seed, int orders)
    {
        var domain = $"flt-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(seed, orders, new ShopGeneratorOptions { Domain = domain, Name = $"Faults {seed}" });
        var token = "shpat_" + Guid.NewGuid().ToString("N");
        Shopify.State.AddShop(shop, token);
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        return (shop, token);
    }

    /// <summary>A new account and a connected store of <paramref name="shop"/>; with <paramref name="webhooks"/> Xeno
    /// subscribes to the shop's webhooks (the app's secret given). Connecting queues the full sync.</summary>
    public async Task<(string Token, StoreResponse Store)> ConnectAsync(Shop shop, string shopToken, bool webhooks = false)
    {
        var registered = await Api.PostAsJsonAsync("/api/v1/auth/register",
            new { email = XenoFixture.UniqueEmail("faults"), password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var token = (await registered.Content.ReadFromJsonAsync<AuthResponse>())!.Token;
        using var connect = new HttpRequestMessage(HttpMethod.Post, "/api/v1/stores")
        {
            Content = JsonContent.Create(new { shopDomain = shop.MyshopifyDomain, accessToken = shopToken, apiSecret = webhooks ? AppSecret : null }),
        };
        connect.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var connected = await Api.SendAsync(connect);
        Assert.Equal(HttpStatusCode.Created, connected.StatusCode);
        return (token, (await connected.Content.ReadFromJsonAsync<StoreResponse>())!);
    }

    /// <summary>GET as the store's owner; a request that fails (the database restarting under the web process) is
    /// tried again until <paramref name="deadline"/>.</summary>
    public async Task<T> GetAsync<T>(string token, string url, DateTime? deadline = null)
    {
        deadline ??= DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await Api.SendAsync(request);
                if (response.IsSuccessStatusCode) return (await response.Content.ReadFromJsonAsync<T>())!;
                if (DateTime.UtcNow > deadline) throw new HttpRequestException($"{url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow <= deadline) { }
            await Task.Delay(250);
        }
    }

    public async Task<Guid> QueueSyncAsync(string token, Guid storeId, string mode)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/stores/{storeId}/sync") { Content = JsonContent.Create(new { mode }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<QueueSync.Response>())!.RunId;
    }

    /// <summary>Polls the sync API until the store's last run has ended (idle or failed).</summary>
    public async Task<GetSyncStatus.Response> WaitForSyncAsync(string token, Guid storeId, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = await GetAsync<GetSyncStatus.Response>(token, $"/api/v1/stores/{storeId}/sync", deadline);
            if (status.State is "idle" or "failed" && status.LastRun is not null) return status;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The sync did not end: {status.State}, {status.LastRun?.Fetched}\n{diagnostics?.Invoke()}");
            await Task.Delay(250);
        }
    }

    /// <summary>One value read in SQL as the owner with the store's tenant set; SQL NULL is null.</summary>
    public async Task<object?> ScalarAsync(Guid storeId, string sql)
    {
        await using var conn = new NpgsqlConnection(OwnerConnectionString);
        await conn.OpenAsync();
        await using (var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", conn))
        {
            set.Parameters.AddWithValue("t", storeId.ToString());
            await set.ExecuteNonQueryAsync();
        }
        await using var cmd = new NpgsqlCommand(sql, conn);
        var value = await cmd.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    public async Task<long> CountAsync(Guid storeId, string sql) => Convert.ToInt64(await ScalarAsync(storeId, sql), CultureInfo.InvariantCulture);

    /// <summary>Polls until <paramref name="done"/> holds, or throws after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> done, string what, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Still waiting for {what}.\n{diagnostics?.Invoke()}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// The store holds exactly the shop: every table's rows and sums against the Shopify server's model (a row lost
    /// or doubled changes a count or a sum), and the metrics API's summary over the whole history against the figures
    /// computed from the model, so that the aggregates count each order and refund once too.
    /// </summary>
    public async Task AssertExactAsync(Shop shop, string token, Guid storeId)
    {
        Assert.Equal(ShopAssertions.Expected(shop), await ShopAssertions.StoredAsync(OwnerConnectionString, storeId));
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, shop.TimeZone).DateTime);
        var (from, to) = (today.AddDays(-(MetricsExpectations.MaxRangeDays - 1)), today);
        var expected = MetricsExpectations.Summary(shop, from, to);
        var actual = await GetAsync<SummaryBody>(token,
            $"/api/v1/stores/{storeId}/metrics/summary?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}");
        Assert.Equal(expected, actual);
    }
}

[CollectionDefinition(Name)]
public sealed class FaultsCollection : ICollectionFixture<FaultsFixture>
{
    public const string Name = "faults";
}
