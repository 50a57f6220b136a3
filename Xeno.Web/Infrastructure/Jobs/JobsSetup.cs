using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Jobs;

public static class JobsSetup
{
    public static readonly string[] Queues = ["webhooks", "sync", "default"];
    public const string OperatorPolicy = "operators";

    public static void MapOperatorDashboard(this WebApplication app)
    {
        // Looking is safe; deleting or re-running a job by hand is not, so buttons appear only where configured.
        var writable = app.Configuration.GetValue("Operations:HangfireWritable", false);
        app.MapHangfireDashboardWithAuthorizationPolicy(OperatorPolicy, "/hangfire", new DashboardOptions
        {
            DashboardTitle = "Xeno jobs",
            // The policy decides; Hangfire's own default (local requests only) would let anyone on the box in.
            Authorization = [],
            IsReadOnlyFunc = _ => !writable,
        });
    }

    /// <summary>Hangfire keeps its queues in PostgreSQL (schema <c>hangfire</c>, made by the owner at start-up and used by
    /// the app role: it holds no merchant data), so any number of worker processes can share them.</summary>
    public static WebApplicationBuilder AddXenoJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseFilter(new JobTelemetry())
            .UsePostgreSqlStorage(
                options => options.UseNpgsqlConnection(sp.GetRequiredService<DatabaseConnections>().App),
                new PostgreSqlStorageOptions
                {
                    SchemaName = DatabaseSetup.JobsSchema,
                    // The app role may not create tables: the owner installs the schema (DatabaseSetup).
                    PrepareSchemaIfNecessary = false,
                    // A queued job wakes a worker at once (LISTEN/NOTIFY), and polling every second
                    // instead of every 15 covers a missed notification.
                    EnableLongPolling = true,
                    QueuePollInterval = TimeSpan.FromSeconds(1),
                    // A long sync keeps its job fetched (heartbeat), and a dead worker's job comes back
                    // after the timeout instead of being taken twice while it still runs.
                    UseSlidingInvisibilityTimeout = true,
                    InvisibilityTimeout = builder.Configuration.GetValue("Jobs:InvisibilityTimeout", TimeSpan.FromMinutes(5)),
                }));

        // Operators only: the dashboard shows every store's jobs, so no merchant may see it. Asked of the database on each
        // request, so that `operator revoke` takes effect at once.
        builder.Services.AddAuthorizationBuilder().AddPolicy(OperatorPolicy, p => p
            .AddAuthenticationSchemes(Auth.AuthSetup.CookieScheme)
            .RequireAuthenticatedUser()
            .RequireAssertion(async c => c.Resource is HttpContext http
                && http.User.FindFirst(Microsoft.IdentityModel.JsonWebTokens.JwtRegisteredClaimNames.Sub)?.Value is { } sub && Guid.TryParse(sub, out var userId)
                && await http.RequestServices.GetRequiredService<XenoDb>().Users.AnyAsync(u => u.Id == userId && u.IsOperator)));
        builder.Services.AddScoped<Features.Sync.SyncJob>();
        builder.Services.AddScoped<Features.Sync.BulkBackfill>();
        // A bulk file may take minutes to download; the loader's own reads bound each step.
        builder.Services.AddHttpClient<Features.Sync.BulkFileLoader>(c => c.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddScoped<Features.Sync.ScheduleIncrementalSyncs>();
        builder.Services.AddScoped<Features.Webhooks.ProcessWebhook>();
        builder.Services.AddScoped<Ingestion.BuildAggregates>();
        if (XenoRoles.RunsWorkers(builder.Configuration))
        {
            builder.Services.AddHangfireServer(options =>
            {
                options.Queues = Queues;
                // Jobs mostly wait on PostgreSQL and Shopify, not on the CPU.
                options.WorkerCount = Math.Max(10, Environment.ProcessorCount * 5);
                options.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
                // On SIGTERM running jobs are cancelled; each stops at its last checkpoint and goes back to the queue
                // for any worker to resume. This bounds the wait, inside the host's own shutdown timeout.
                options.ShutdownTimeout = TimeSpan.FromSeconds(20);
            });
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(25));
        }
        return builder;
    }
}

/// <summary><c>--role all|web|worker</c>: which parts of Xeno this process runs.</summary>
public static class XenoRoles
{
    public static string Role(IConfiguration config) => (config["role"] ?? "all").Trim().ToLowerInvariant() switch
    {
        "all" or "" => "all",
        "web" => "web",
        "worker" => "worker",
        var other => throw new InvalidOperationException($"--role must be all, web or worker, not '{other}'."),
    };

    public static bool RunsWorkers(IConfiguration config) => Role(config) is "all" or "worker";
    public static bool ServesWeb(IConfiguration config) => Role(config) is "all" or "web";
}
