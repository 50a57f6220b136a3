using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Infrastructure.Database;

/// <summary>The two connection strings Xeno runs on. The owner migrates and runs Hangfire's own
/// tables; requests and jobs use the app role, which neither owns the tables nor bypasses RLS.</summary>
public sealed class DatabaseConnections
{
    public required string Owner { get; init; }
    public string App { get; internal set; } = "";
    public bool Ready { get; internal set; }
}

public static class DatabaseSetup
{
    public static WebApplicationBuilder AddXenoDatabase(this WebApplicationBuilder builder)
    {
        var owner = builder.Configuration.GetConnectionString("Xeno");
        owner = string.IsNullOrWhiteSpace(owner) ? FromDatabaseUrl(builder.Configuration["DATABASE_URL"]) : owner;
        if (string.IsNullOrWhiteSpace(owner))
        {
            if (!Features.Demo.DemoSetup.IsEnabled(builder.Configuration, builder.Environment))
                throw new InvalidOperationException("ConnectionStrings__Xeno is required (or enable demo mode, which starts a private PostgreSQL).");
            // Demo mode with no server configured: a private cluster kept under .data/ between runs.
            var dataDir = Path.Combine(builder.Environment.ContentRootPath, "..", ".data", "postgres");
            var postgres = PrivatePostgres.StartAsync(Path.GetFullPath(dataDir), deleteOnDispose: false).GetAwaiter().GetResult();
            builder.Services.AddSingleton(_ => postgres); // made by a factory, so the container stops it on shutdown
            owner = postgres.ConnectionString;
        }

        var connections = new DatabaseConnections { Owner = owner };
        builder.Services.AddSingleton(connections);
        builder.Services.AddScoped<TenantContext>();
        builder.Services.AddScoped<TenantConnectionInterceptor>();
        builder.Services.AddDbContext<XenoDb>((sp, options) => options
            .UseNpgsql(sp.GetRequiredService<DatabaseConnections>().App)
            .UseSnakeCaseNamingConvention()
            .AddInterceptors(sp.GetRequiredService<TenantConnectionInterceptor>()));
        return builder;
    }

    /// <summary>Migrates (unless told not to), makes sure the app role exists and may use the tables,
    /// and loads the secrets Xeno generates for itself. One process at a time, under an advisory lock,
    /// so that several processes starting together do not race.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var connections = app.Services.GetRequiredService<DatabaseConnections>();
        // Resolving the private cluster hands it to the container, which stops it when Xeno stops.
        _ = app.Services.GetService<PrivatePostgres>();
        var config = app.Configuration;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Xeno.Database");

        await using var ownerDb = CreateOwnerDb(connections.Owner);
        await ownerDb.Database.OpenConnectionAsync();
        await ownerDb.Database.ExecuteSqlRawAsync("SELECT pg_advisory_lock(727274)");
        try
        {
            if (config.GetValue("Database:MigrateOnStartup", true))
            {
                var pending = (await ownerDb.Database.GetPendingMigrationsAsync()).ToList();
                if (pending.Count > 0) logger.LogInformation("Applying {Count} migrations", pending.Count);
                await ownerDb.Database.MigrateAsync();
            }

            connections.App = WithStatementTimeout(
                await EnsureAppRoleAsync(ownerDb, config.GetConnectionString("XenoApp"), connections.Owner),
                config.GetValue("Database:StatementTimeout", TimeSpan.FromSeconds(30)));
            Secrets = await LoadSecretsAsync(ownerDb);
        }
        finally
        {
            await ownerDb.Database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock(727274)");
        }
        connections.Ready = (await ownerDb.Database.GetPendingMigrationsAsync()).Any() is false;
    }

    internal static GeneratedSecrets Secrets { get; private set; } = new("");

    internal sealed record GeneratedSecrets(string JwtSigningKey);

    private static XenoDb CreateOwnerDb(string connectionString)
    {
        var options = new DbContextOptionsBuilder<XenoDb>()
            .UseNpgsql(connectionString)
            .UseSnakeCaseNamingConvention()
            .Options;
        return new XenoDb(options, new TenantContext());
    }

    /// <summary>Every statement of requests and jobs ends after <paramref name="timeout"/>, so no request can hold the
    /// database for long; the few long steps (a backfill's aggregate rebuild) lift it for their own transaction.</summary>
    private static string WithStatementTimeout(string connectionString, TimeSpan timeout) =>
        new NpgsqlConnectionStringBuilder(connectionString)
        {
            Options = $"-c statement_timeout={(long)timeout.TotalMilliseconds}",
        }.ConnectionString;

    private static async Task<string> EnsureAppRoleAsync(XenoDb ownerDb, string? configuredApp, string owner)
    {
        string appConnection;
        string role;
        if (!string.IsNullOrWhiteSpace(configuredApp))
        {
            appConnection = configuredApp;
            role = new NpgsqlConnectionStringBuilder(configuredApp).Username!;
        }
        else
        {
            var ownerBuilder = new NpgsqlConnectionStringBuilder(owner);
            role = $"{ownerBuilder.Database}_app";
            var password = await GetSecretAsync(ownerDb, "app_role_password");
            var exists = await Scalar<bool>(ownerDb, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {0}) AS \"Value\"", role);
            if (password is null || !exists)
            {
                password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
                var verb = exists ? "ALTER" : "CREATE";
                // Role names and passwords cannot be bound as parameters; both are ours (database name and hex).
                var createRole = $"{verb} ROLE {Quote(role)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '{password}'";
                await ownerDb.Database.ExecuteSqlRawAsync(createRole);
                await SetSecretAsync(ownerDb, "app_role_password", password);
            }
            appConnection = new NpgsqlConnectionStringBuilder(owner) { Username = role, Password = password }.ConnectionString;
        }

        var database = new NpgsqlConnectionStringBuilder(owner).Database!;
        var grants = $"""
            GRANT CONNECT ON DATABASE {Quote(database)} TO {Quote(role)};
            GRANT USAGE ON SCHEMA public TO {Quote(role)};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {Quote(role)};
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {Quote(role)};
            REVOKE ALL ON app_secrets FROM {Quote(role)};
            """;
        await ownerDb.Database.ExecuteSqlRawAsync(grants);
        return appConnection;
    }

    private static async Task<GeneratedSecrets> LoadSecretsAsync(XenoDb ownerDb)
    {
        var jwt = await GetSecretAsync(ownerDb, "jwt_signing_key");
        if (jwt is null)
        {
            jwt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            await SetSecretAsync(ownerDb, "jwt_signing_key", jwt);
        }
        return new GeneratedSecrets(jwt);
    }

    private static async Task<string?> GetSecretAsync(XenoDb db, string name) =>
        await db.Database.SqlQueryRaw<string>("SELECT value AS \"Value\" FROM app_secrets WHERE name = {0}", name).FirstOrDefaultAsync();

    private static Task SetSecretAsync(XenoDb db, string name, string value) =>
        db.Database.ExecuteSqlRawAsync(
            "INSERT INTO app_secrets (name, value) VALUES ({0}, {1}) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value);

    private static async Task<T> Scalar<T>(XenoDb db, string sql, params object[] args) =>
        await db.Database.SqlQueryRaw<T>(sql, args).FirstAsync();

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    /// <summary>Fly and Heroku hand out <c>postgres://user:pass@host:port/db</c>; Npgsql wants key=value.</summary>
    internal static string? FromDatabaseUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri)) return null;
        var userInfo = uri.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = uri.AbsolutePath.Trim('/'),
            Username = Uri.UnescapeDataString(userInfo[0]),
            Password = userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : null,
        };
        var sslmode = System.Web.HttpUtility.ParseQueryString(uri.Query)["sslmode"];
        if (sslmode is not null && Enum.TryParse<SslMode>(sslmode, ignoreCase: true, out var mode)) builder.SslMode = mode;
        return builder.ConnectionString;
    }
}
