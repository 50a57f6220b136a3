using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Infrastructure.Database;

/// <summary>The connection strings Xeno runs on. The owner migrates, and creates and grants the other two roles; requests
/// and jobs (and Hangfire's queues) use the app role, which neither owns the tables nor bypasses RLS, and cannot read a
/// password hash or a key; sign-up, login and the Data Protection key ring use the secrets role, which can read little else.</summary>
public sealed class DatabaseConnections
{
    /// <summary>Null in a process given only the app and secrets roles: it neither migrates nor creates roles.</summary>
    public string? Owner { get; init; }
    public string App { get; internal set; } = "";
    public string Secrets { get; internal set; } = "";
    public bool Ready { get; internal set; }
}

public static class DatabaseSetup
{
    public static WebApplicationBuilder AddXenoDatabase(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var owner = config.GetConnectionString("Xeno");
        owner = string.IsNullOrWhiteSpace(owner) ? FromDatabaseUrl(config["DATABASE_URL"]) : owner;
        var rolesGiven = !string.IsNullOrWhiteSpace(config.GetConnectionString("XenoApp")) && !string.IsNullOrWhiteSpace(config.GetConnectionString("XenoSecrets"));
        if (string.IsNullOrWhiteSpace(owner) && !rolesGiven)
        {
            if (!Features.Demo.DemoSetup.IsEnabled(config, builder.Environment))
                throw new InvalidOperationException("ConnectionStrings__Xeno is required (or ConnectionStrings__XenoApp and ConnectionStrings__XenoSecrets "
                    + "for a process that does not migrate, or demo mode, which starts a private PostgreSQL).");
            // Demo mode with no server configured: a private cluster kept under .data/ between runs.
            var dataDir = Path.Combine(builder.Environment.ContentRootPath, "..", ".data", "postgres");
            var postgres = PrivatePostgres.StartAsync(Path.GetFullPath(dataDir), deleteOnDispose: false).GetAwaiter().GetResult();
            builder.Services.AddSingleton(_ => postgres); // made by a factory, so the container stops it on shutdown
            owner = postgres.ConnectionString;
        }

        var connections = new DatabaseConnections { Owner = string.IsNullOrWhiteSpace(owner) ? null : owner };
        builder.Services.AddSingleton(connections);
        builder.Services.AddScoped<TenantContext>();
        builder.Services.AddScoped<TenantConnectionInterceptor>();
        builder.Services.AddDbContext<XenoDb>((sp, options) => options
            .UseNpgsql(sp.GetRequiredService<DatabaseConnections>().App)
            .UseSnakeCaseNamingConvention()
            .AddInterceptors(sp.GetRequiredService<TenantConnectionInterceptor>()));
        builder.Services.AddDbContext<SecretsDb>((sp, options) => options
            .UseNpgsql(sp.GetRequiredService<DatabaseConnections>().Secrets)
            .UseSnakeCaseNamingConvention());
        return builder;
    }

    /// <summary>Migrates (unless told not to), makes sure the app and secrets roles exist with exactly their grants, and
    /// loads the secrets Xeno generates for itself. One process at a time, under an advisory lock, so that several
    /// processes starting together do not race. A process without the owner's credentials only checks the schema.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var connections = app.Services.GetRequiredService<DatabaseConnections>();
        // Resolving the private cluster hands it to the container, which stops it when Xeno stops.
        _ = app.Services.GetService<PrivatePostgres>();
        var config = app.Configuration;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Xeno.Database");
        var timeout = config.GetValue("Database:StatementTimeout", TimeSpan.FromSeconds(30));

        if (connections.Owner is null)
        {
            connections.App = WithSessionSettings(config.GetConnectionString("XenoApp")!, timeout);
            connections.Secrets = WithSessionSettings(config.GetConnectionString("XenoSecrets")!, timeout);
            await using var appDb = CreateDb(connections.App);
            connections.Ready = !(await appDb.Database.GetPendingMigrationsAsync()).Any();
            if (!connections.Ready) logger.LogWarning("The database has migrations to apply: run `migrate` with the owner's connection");
            return;
        }

        await using var ownerDb = CreateDb(connections.Owner);
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
            // Hangfire's tables, made (or upgraded) by the owner so that the app role, which runs the queues, needs no DDL.
            Hangfire.PostgreSql.PostgreSqlObjectsInstaller.Install((NpgsqlConnection)ownerDb.Database.GetDbConnection(), JobsSchema);

            var appRole = await EnsureRoleAsync(ownerDb, "app", config.GetConnectionString("XenoApp"), connections.Owner);
            var secretsRole = await EnsureRoleAsync(ownerDb, "secrets", config.GetConnectionString("XenoSecrets"), connections.Owner);
            var database = new NpgsqlConnectionStringBuilder(connections.Owner).Database!;
            await GrantAsync(ownerDb, appRole.Name, secretsRole.Name, database);
            foreach (var role in new[] { appRole.Name, secretsRole.Name })
                await LimitStatementsAsync(ownerDb, role, database, timeout, logger);
            connections.App = WithSessionSettings(appRole.ConnectionString, timeout);
            connections.Secrets = WithSessionSettings(secretsRole.ConnectionString, timeout);
            Secrets = await LoadSecretsAsync(ownerDb);
        }
        finally
        {
            await ownerDb.Database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock(727274)");
        }
        connections.Ready = (await ownerDb.Database.GetPendingMigrationsAsync()).Any() is false;
    }

    public const string JobsSchema = "hangfire";

    internal static GeneratedSecrets Secrets { get; private set; } = new("");

    internal sealed record GeneratedSecrets(string JwtSigningKey);

    private static XenoDb CreateDb(string connectionString)
    {
        var options = new DbContextOptionsBuilder<XenoDb>()
            .UseNpgsql(connectionString)
            .UseSnakeCaseNamingConvention()
            .Options;
        return new XenoDb(options, new TenantContext());
    }

    /// <summary>Every statement of requests and jobs ends after <paramref name="timeout"/>, so no request can hold the
    /// database for long; the few long steps (a backfill's aggregate rebuild) lift it for their own transaction.
    /// JIT compilation is off: Xeno's statements touch few rows through indexes, but the planner's cost for some (a
    /// refresh of a month of days at a million orders) passes jit_above_cost, and compiling them took 2 s of a 2.3 s
    /// statement that runs in 0.4 s without.</summary>
    private static string WithSessionSettings(string connectionString, TimeSpan timeout) =>
        new NpgsqlConnectionStringBuilder(connectionString)
        {
            Options = $"-c statement_timeout={(long)timeout.TotalMilliseconds} -c jit=off",
        }.ConnectionString;

    /// <summary>The statement timeout as the role's own setting in this database too, so that it holds for anyone who
    /// logs in with the role's credentials (psql, a script), not only for Xeno's connection strings.</summary>
    private static async Task LimitStatementsAsync(XenoDb ownerDb, string role, string database, TimeSpan timeout, ILogger logger)
    {
        try
        {
            // Names cannot be bound as parameters: both are quoted, and the timeout is a number.
            var sql = $"ALTER ROLE {Quote(role)} IN DATABASE {Quote(database)} SET statement_timeout = {(long)timeout.TotalMilliseconds}";
            await ownerDb.Database.ExecuteSqlRawAsync(sql);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // A role the operator made and the owner may not alter: Xeno's own connections still carry the timeout.
            logger.LogWarning("Could not set statement_timeout on role {Role}: {Error}", role, e.MessageText);
        }
    }

    private sealed record Role(string Name, string ConnectionString);

    /// <summary>The configured role, or <c>&lt;database&gt;_&lt;purpose&gt;</c> made here with a generated password (kept in
    /// app_secrets, which only the owner reads).</summary>
    private static async Task<Role> EnsureRoleAsync(XenoDb ownerDb, string purpose, string? configured, string owner)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return new Role(new NpgsqlConnectionStringBuilder(configured).Username!, configured);

        var ownerBuilder = new NpgsqlConnectionStringBuilder(owner);
        var role = $"{ownerBuilder.Database}_{purpose}";
        var secretName = $"{purpose}_role_password";
        var password = await GetSecretAsync(ownerDb, secretName);
        var exists = await Scalar<bool>(ownerDb, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {0}) AS \"Value\"", role);
        if (password is null || !exists)
        {
            password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            var verb = exists ? "ALTER" : "CREATE";
            // Role names and passwords cannot be bound as parameters; both are ours (database name and hex).
            var createRole = $"{verb} ROLE {Quote(role)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '{password}'";
            await ownerDb.Database.ExecuteSqlRawAsync(createRole);
            await SetSecretAsync(ownerDb, secretName, password);
        }
        return new Role(role, new NpgsqlConnectionStringBuilder(owner) { Username = role, Password = password }.ConnectionString);
    }

    /// <summary>Each role gets what its work needs and no more, on every start, so a grant added by hand does not last.
    /// The app role: every table but the secrets ones, read-only migration history, no new accounts, Hangfire's queues.
    /// The secrets role: accounts, password hashes and the key ring.</summary>
    private static Task GrantAsync(XenoDb ownerDb, string appRole, string secretsRole, string database)
    {
        var (app, secrets, jobs) = (Quote(appRole), Quote(secretsRole), Quote(JobsSchema));
        var sql = $"""
            GRANT CONNECT ON DATABASE {Quote(database)} TO {app}, {secrets};
            GRANT USAGE ON SCHEMA public TO {app}, {secrets};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app};
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app};
            REVOKE ALL ON app_secrets, user_passwords, data_protection_keys FROM {app};
            REVOKE INSERT ON users FROM {app};
            REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "__EFMigrationsHistory" FROM {app};
            REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {secrets};
            GRANT SELECT, INSERT, UPDATE ON users TO {secrets};
            GRANT SELECT, INSERT, UPDATE, DELETE ON user_passwords, data_protection_keys TO {secrets};
            GRANT USAGE, SELECT ON SEQUENCE data_protection_keys_id_seq TO {secrets};
            """;
        sql += $"""

            DO $$ BEGIN
              IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '{JobsSchema}') THEN
                GRANT USAGE ON SCHEMA {jobs} TO {app};
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {jobs} TO {app};
                GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {jobs} TO {app};
              END IF;
            END $$;
            """;
        return ownerDb.Database.ExecuteSqlRawAsync(sql);
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
