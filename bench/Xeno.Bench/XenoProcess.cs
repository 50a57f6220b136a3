using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Xeno.Bench;

/// <summary>
/// Xeno as production runs it: its own process (<c>dotnet Xeno.Web.dll --role all</c>), configured by environment
/// variables, on a loopback port. Its output goes to a log file, each line stamped with the bench's clock when it
/// arrived. Memory is read from <c>/proc/PID/status</c>: <c>VmRSS</c> now, <c>VmHWM</c> the peak since the last
/// <see cref="ResetPeak"/> (writing 5 to <c>/proc/PID/clear_refs</c>).
/// </summary>
internal sealed class XenoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();

    private XenoProcess(Process process, string url, string logPath, StreamWriter log)
    {
        _process = process;
        Url = url;
        LogPath = logPath;
        _log = log;
    }

    public string Url { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    public static XenoProcess Start(string xenoDir, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var info = new ProcessStartInfo("dotnet", $"\"{Path.Combine(xenoDir, "Xeno.Web.dll")}\" --urls {url} --role all")
        {
            WorkingDirectory = xenoDir, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var (key, value) in environment) info.Environment[key] = value;
        info.Environment["App__PublicUrl"] = url; // webhook subscriptions point at Xeno itself
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var xeno = new XenoProcess(process, url, logPath, log);
        process.OutputDataReceived += (_, e) => xeno.Append(e.Data);
        process.ErrorDataReceived += (_, e) => xeno.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        xeno.Append($"--- bench: started Xeno (pid {process.Id}) on {url}");
        return xeno;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_logLock) _log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
    }

    public void Mark(string message) => Append("--- bench: " + message);

    public async Task WaitReadyAsync(HttpClient http, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (HasExited) throw new InvalidOperationException($"Xeno exited with code {_process.ExitCode} while starting; see {LogPath}.");
            try
            {
                using var response = await http.GetAsync(Url + "/readyz");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Xeno was not ready after {timeout.TotalSeconds:F0} s; see {LogPath}.");
            await Task.Delay(250);
        }
    }

    /// <summary>A field of /proc/PID/status in MB (VmRSS, VmHWM); null once the process is gone.</summary>
    public double? MemoryMb(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException) { }
        return null;
    }

    public double? RssMb => MemoryMb("VmRSS");
    public double? PeakRssMb => MemoryMb("VmHWM");

    /// <summary>CPU time used by the process so far (user + system), from /proc/PID/stat; NaN once it is gone.</summary>
    public double CpuSeconds
    {
        get
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{Pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // Fields 14 and 15 of stat (utime, stime), counted from after the command's closing parenthesis.
                return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException) { return double.NaN; }
        }
    }

    /// <summary>Resets VmHWM to the current RSS, so that the next peak is this phase's.</summary>
    public void ResetPeak()
    {
        try { File.WriteAllText($"/proc/{Pid}/clear_refs", "5"); }
        catch (IOException e) { Log.Info($"could not reset Xeno's peak RSS: {e.Message}"); }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM first, for a graceful stop (Hangfire's workers, the log), then kill.
            try { Process.Start("kill", $"-TERM {Pid}")?.WaitForExit(5_000); } catch (System.ComponentModel.Win32Exception) { }
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await _process.WaitForExitAsync(wait.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        }
        _process.Dispose();
        lock (_logLock) _log.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
