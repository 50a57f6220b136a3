using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Xeno.Web.Infrastructure.Database;

/// <summary>
/// A PostgreSQL cluster of Xeno's own, in a folder, on a loopback port: what demo mode and the tests
/// run on when no server is configured. The server refuses to run as root, so as root it runs as the
/// <c>postgres</c> OS user. The database belongs to a role that is not a superuser, so Xeno is tried
/// the way an operator's managed database would run it.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _dataDir;
    private readonly bool _deleteOnDispose;
    private readonly string _binDir;

    private PrivatePostgres(string dataDir, string binDir, bool deleteOnDispose, string connectionString)
    {
        _dataDir = dataDir;
        _binDir = binDir;
        _deleteOnDispose = deleteOnDispose;
        ConnectionString = connectionString;
    }

    /// <summary>Connection string of the database owner (CREATEROLE, not superuser).</summary>
    public string ConnectionString { get; }

    /// <param name="durable">Start with PostgreSQL's production durability (fsync, synchronous commit, full page writes),
    /// as a benchmark of durably stored data needs; by default those are off, which suits tests and the demo.</param>
    public static async Task<PrivatePostgres> StartAsync(string dataDir, bool deleteOnDispose, string database = "xeno", bool durable = false)
    {
        var binDir = FindBinDir();
        var clusterDir = Path.Combine(dataDir, "cluster");
        var secretsFile = Path.Combine(dataDir, "owner.secret");
        Directory.CreateDirectory(dataDir);
        var asPostgresUser = Environment.UserName == "root";
        if (asPostgresUser) Run("chown", $"postgres \"{dataDir}\"");

        if (!File.Exists(Path.Combine(clusterDir, "PG_VERSION")))
        {
            // Local socket connections trust the OS user (only postgres or the folder's owner can
            // reach the socket folder); TCP asks for a password.
            RunPg(binDir, asPostgresUser, "initdb",
                $"-D \"{clusterDir}\" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256");
        }

        var port = ReadPort(dataDir) ?? FreePort();
        File.WriteAllText(Path.Combine(dataDir, "port"), port.ToString());
        if (asPostgresUser) Run("chown", $"-R postgres \"{dataDir}\"");

        if (!IsRunning(binDir, asPostgresUser, clusterDir))
        {
            RunPg(binDir, asPostgresUser, "pg_ctl",
                $"-D \"{clusterDir}\" -l \"{Path.Combine(dataDir, "server.log")}\" -w -t 60 start " +
                $"-o \"-p {port} -k '{dataDir}' -c listen_addresses=127.0.0.1 -c max_connections=200" +
                (durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off") + "\"");
        }

        var ownerPassword = File.Exists(secretsFile) ? File.ReadAllText(secretsFile).Trim() : null;
        if (ownerPassword is null)
        {
            ownerPassword = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            var superuser = new NpgsqlConnectionStringBuilder { Host = dataDir, Port = port, Username = "postgres", Database = "postgres" };
            await using var conn = new NpgsqlConnection(superuser.ConnectionString);
            await conn.OpenAsync();
            await Exec(conn, $"CREATE ROLE xeno_owner LOGIN CREATEROLE PASSWORD '{ownerPassword}'");
            await Exec(conn, $"CREATE DATABASE \"{database}\" OWNER xeno_owner");
            File.WriteAllText(secretsFile, ownerPassword);
        }

        var owner = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = "xeno_owner", Password = ownerPassword, Database = database,
        };
        return new PrivatePostgres(dataDir, binDir, deleteOnDispose, owner.ConnectionString);
    }

    /// <summary>Another database owned by the same owner, for a second Xeno process that must not share
    /// the first one's data or job queues (the browser tests).</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        var port = ReadPort(_dataDir)!.Value;
        var superuser = new NpgsqlConnectionStringBuilder { Host = _dataDir, Port = port, Username = "postgres", Database = "postgres" };
        await using (var conn = new NpgsqlConnection(superuser.ConnectionString))
        {
            await conn.OpenAsync();
            await Exec(conn, $"CREATE DATABASE \"{name}\" OWNER xeno_owner");
        }
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    public ValueTask DisposeAsync()
    {
        var clusterDir = Path.Combine(_dataDir, "cluster");
        try { RunPg(_binDir, Environment.UserName == "root", "pg_ctl", $"-D \"{clusterDir}\" -m fast -w stop"); }
        catch (InvalidOperationException) { /* already stopped */ }
        if (_deleteOnDispose)
        {
            NpgsqlConnection.ClearAllPools();
            try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return ValueTask.CompletedTask;
    }

    private static async Task Exec(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static bool IsRunning(string binDir, bool asPostgresUser, string clusterDir)
    {
        try { RunPg(binDir, asPostgresUser, "pg_ctl", $"-D \"{clusterDir}\" status"); return true; }
        catch (InvalidOperationException) { return false; }
    }

    private static int? ReadPort(string dataDir)
    {
        var file = Path.Combine(dataDir, "port");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file), out var port) ? port : null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindBinDir()
    {
        var candidates = new List<string>();
        if (Directory.Exists("/usr/lib/postgresql"))
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d).Select(d => Path.Combine(d, "bin")));
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
            ?? throw new InvalidOperationException(
                "PostgreSQL's server programs (initdb, pg_ctl) were not found. Install them (Debian: apt-get install -y postgresql) " +
                "or set ConnectionStrings__Xeno to a server of your own.");
    }

    private static void RunPg(string binDir, bool asPostgresUser, string program, string arguments)
    {
        var path = Path.Combine(binDir, program);
        if (asPostgresUser) Run("runuser", $"-u postgres -- \"{path}\" {arguments}");
        else Run(path, arguments);
    }

    private static void Run(string fileName, string arguments)
    {
        var info = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/",
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start");
        // Read both streams before waiting: a full pipe would block the child forever.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(fileName)} {arguments} failed ({process.ExitCode}): {stderr.Result}{stdout.Result}");
    }
}
