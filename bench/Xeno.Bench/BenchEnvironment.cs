using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Bench;

/// <summary>A store connected through Xeno's API, and the shop behind it on the Shopify-compatible server.</summary>
internal sealed record BenchStore(Guid Id, string Domain, Shop Shop, int Orders);

/// <summary>
/// Everything a run needs, on loopback: a private PostgreSQL with production durability, the Shopify-compatible
/// server (in this process), Xeno in its own process, and one account whose stores the phases connect.
/// </summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    public const string AppSecret = "bench-app-secret";

    private readonly Dictionary<string, string> _xenoEnvironment;
    private readonly string _workDir;
    private readonly string _xenoDir;
    private readonly string _email = $"bench-{Guid.NewGuid():N}@example.com";
    private const string Password = "bench password 1";

    private BenchEnvironment(string workDir, string xenoDir, PrivatePostgres postgres, string superuser, ShopifyTestServer shopify,
        Dictionary<string, string> xenoEnvironment, XenoProcess xeno, string logPath)
    {
        _workDir = workDir;
        _xenoDir = xenoDir;
        Postgres = postgres;
        SuperuserConnectionString = superuser;
        Shopify = shopify;
        _xenoEnvironment = xenoEnvironment;
        Xeno = xeno;
        XenoLogPath = logPath;
        Load = new MachineLoad(() => Xeno.HasExited ? null : Xeno.Pid, Path.Combine(workDir, "pg", "cluster", "postmaster.pid"));
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            Timeout = TimeSpan.FromSeconds(100),
        };
    }

    public PrivatePostgres Postgres { get; }
    public string OwnerConnectionString => Postgres.ConnectionString;
    /// <summary>The cluster's superuser over its Unix socket: only the raw COPY baseline uses it (COPY FROM is refused on
    /// tables under row-level security, which Xeno forces on its owner too).</summary>
    public string SuperuserConnectionString { get; }
    public ShopifyTestServer Shopify { get; }
    public XenoProcess Xeno { get; private set; }
    public string XenoLogPath { get; }
    public HttpClient Http { get; }
    public MachineLoad Load { get; }
    public string Token { get; private set; } = "";
    public string WorkDir => _workDir;
    public string PostgresVersion { get; private set; } = "";
    public string PostgresSettings { get; private set; } = "";
    public int Restarts { get; private set; }

    /// <summary>Stores connected so far, by role (e.g. "backfill-10k", "other-3").</summary>
    public Dictionary<string, BenchStore> Stores { get; } = [];

    public static async Task<BenchEnvironment> StartAsync(BenchOptions options)
    {
        var workDir = Path.Combine(Path.GetTempPath(), "xeno-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(workDir);
        var dataDir = Path.Combine(workDir, "pg");
        Log.Info($"starting a private PostgreSQL (durable: fsync, synchronous_commit and full_page_writes on) in {dataDir}");
        var postgres = await PrivatePostgres.StartAsync(dataDir, deleteOnDispose: !options.Keep, durable: true);
        var port = int.Parse(File.ReadAllText(Path.Combine(dataDir, "port")).Trim(), Fmt.C);
        var superuser = new NpgsqlConnectionStringBuilder { Host = dataDir, Port = port, Username = "postgres", Database = "xeno" }.ConnectionString;

        var state = new ShopifyServerState { AppSecret = AppSecret };
        var shopify = await ShopifyTestServer.StartAsync(state);
        Log.Info($"Shopify-compatible server on {shopify.Origin}");

        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Xeno"] = postgres.ConnectionString,
            ["Shopify__ApiBaseUrl"] = shopify.ApiBaseUrl,
            ["Shopify__ApiSecret"] = AppSecret,
            ["Shopify__ApiKey"] = state.DefaultApp.ClientId,
            ["Demo__Enabled"] = "false",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        var logPath = Path.Combine(workDir, "xeno.log");
        var xeno = XenoProcess.Start(options.XenoDir, environment, logPath);
        var env = new BenchEnvironment(workDir, options.XenoDir, postgres, superuser, shopify, environment, xeno, logPath);
        try
        {
            await xeno.WaitReadyAsync(env.Http, TimeSpan.FromMinutes(3));
            Log.Info($"Xeno (pid {xeno.Pid}) ready on {xeno.Url}; its log: {logPath}");
            await env.DescribePostgresAsync();
            await env.SignInAsync("register");
        }
        catch
        {
            await env.DisposeAsync();
            throw;
        }
        return env;
    }

    private async Task DescribePostgresAsync()
    {
        await using var conn = new NpgsqlConnection(OwnerConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT version(), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'),
                   current_setting('shared_buffers'), current_setting('max_wal_size'), current_setting('wal_level')
            """, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        PostgresVersion = r.GetString(0).Split(" on ")[0];
        PostgresSettings = $"fsync={r.GetString(1)}, synchronous_commit={r.GetString(2)}, full_page_writes={r.GetString(3)}, " +
                           $"shared_buffers={r.GetString(4)}, max_wal_size={r.GetString(5)}, wal_level={r.GetString(6)}";
    }

    private async Task SignInAsync(string how)
    {
        using var response = await Http.PostAsJsonAsync(Xeno.Url + "/api/v1/auth/" + how, new { email = _email, password = Password });
        response.EnsureSuccessStatusCode();
        Token = (await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
    }

    /// <summary>Restarts Xeno (same database) when its process died, so the next phase can run; says so in the report.</summary>
    public async Task EnsureXenoAsync(Report report, string phase)
    {
        if (!Xeno.HasExited) return;
        report.Note($"Xeno's process had exited before phase {phase}; it was restarted on the same database (see its log).");
        Restarts++;
        await Xeno.DisposeAsync();
        Xeno = XenoProcess.Start(_xenoDir, _xenoEnvironment, XenoLogPath);
        await Xeno.WaitReadyAsync(Http, TimeSpan.FromMinutes(3));
        await SignInAsync("login");
    }

    public HttpRequestMessage Api(HttpMethod method, string path, object? json = null)
    {
        var request = new HttpRequestMessage(method, Xeno.Url + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        if (json is not null) request.Content = JsonContent.Create(json);
        return request;
    }

    public async Task<JsonObject> GetJsonAsync(string path, CancellationToken ct)
    {
        using var response = await Http.SendAsync(Api(HttpMethod.Get, path), ct);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>(ct))!;
    }

    /// <summary>Adds the shop to the Shopify server with a token of its default app and connects it through Xeno's API
    /// (with the app's secret, so that Xeno subscribes to its webhooks): Xeno queues a full sync.</summary>
    public async Task<BenchStore> ConnectAsync(string role, Shop shop, CancellationToken ct)
    {
        var token = "shpat_" + Guid.NewGuid().ToString("N");
        Shopify.State.AddShop(shop, token);
        using var response = await Http.SendAsync(Api(HttpMethod.Post, "/api/v1/stores",
            new { shopDomain = shop.MyshopifyDomain, accessToken = token, apiSecret = AppSecret }), ct);
        if (response.StatusCode != HttpStatusCode.Created)
            throw new HttpRequestException($"Connecting {shop.MyshopifyDomain}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>(ct))!;
        var store = new BenchStore(Guid.Parse(body["id"]!.GetValue<string>()), shop.MyshopifyDomain, shop, shop.Orders.Count);
        Stores[role] = store;
        return store;
    }

    /// <summary>A connection of the database owner with the store's tenant set (row-level security holds the owner too).</summary>
    public async Task<NpgsqlConnection> OwnerAsync(Guid? tenant, CancellationToken ct = default)
    {
        var conn = new NpgsqlConnection(OwnerConnectionString);
        await conn.OpenAsync(ct);
        if (tenant is { } t)
        {
            await using var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", conn);
            set.Parameters.AddWithValue("t", t.ToString());
            await set.ExecuteNonQueryAsync(ct);
        }
        return conn;
    }

    public async Task<T> ScalarAsync<T>(Guid? tenant, string sql, CancellationToken ct = default)
    {
        await using var conn = await OwnerAsync(tenant, ct);
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 900 };
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is null or DBNull ? default! : (T)value;
    }

    /// <summary>Waits until the store's latest sync run has ended; its status, or "timeout".</summary>
    public async Task<string> WaitForSyncAsync(Guid store, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var status = await ScalarAsync<string?>(store, "SELECT status FROM sync_runs ORDER BY queued_at DESC LIMIT 1", ct);
            if (status is "succeeded" or "failed") return status;
            await Task.Delay(500, ct);
        }
        return "timeout";
    }

    public async ValueTask DisposeAsync()
    {
        await Xeno.DisposeAsync();
        await Shopify.DisposeAsync();
        await Postgres.DisposeAsync();
        Http.Dispose();
    }
}
