using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Xeno.Web.Tests.Infrastructure;

/// <summary>
/// Xeno as a process of its own (the Xeno.Web.dll the tests are built beside), with exactly the settings given and none
/// of this process's: for what one in-process host cannot show (start-up failures, commands, a process with other
/// credentials sharing the database). Never a second in-process host: Hangfire's configuration is global.
/// </summary>
public sealed class XenoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private XenoProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (_output) return _output.ToString(); } }

    public Uri BaseAddress { get; private init; } = null!;

    /// <summary>Runs Xeno with <paramref name="args"/> until it exits (a command, or a start that fails).</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string args, IEnumerable<(string Key, string Value)> settings, TimeSpan? timeout = null)
    {
        await using var xeno = new XenoProcess(Start(args, settings));
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        await xeno._process.WaitForExitAsync(cts.Token);
        xeno._process.WaitForExit(); // drains the redirected output
        return (xeno._process.ExitCode, xeno.Output);
    }

    /// <summary>Starts Xeno serving on <paramref name="port"/> (a free loopback port when null), and waits until it answers /healthz.</summary>
    public static async Task<XenoProcess> ServeAsync(string args, IEnumerable<(string Key, string Value)> settings, int? port = null)
    {
        port ??= FreePort();
        var xeno = new XenoProcess(Start($"--urls http://127.0.0.1:{port} {args}", settings)) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var http = new HttpClient { BaseAddress = xeno.BaseAddress };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            if (xeno._process.HasExited) throw new InvalidOperationException("Xeno exited at start:\n" + xeno.Output);
            try
            {
                if ((await http.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK) return xeno;
            }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow > deadline) { await xeno.DisposeAsync(); throw new TimeoutException("Xeno did not answer /healthz:\n" + xeno.Output); }
            await Task.Delay(200);
        }
    }

    public HttpClient CreateClient() => new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = BaseAddress };

    private static Process Start(string args, IEnumerable<(string Key, string Value)> settings)
    {
        var info = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "Xeno.Web.dll")}\" {args}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var key in info.Environment.Keys.Where(k => k.Contains("__") || k.StartsWith("ASPNETCORE_") || k.StartsWith("DOTNET_ENVIRONMENT")).ToList())
            info.Environment.Remove(key);
        info.Environment["Demo__Enabled"] = "false";
        foreach (var (key, value) in settings) info.Environment[key] = value;
        return Process.Start(info)!;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Ends the process at once (SIGKILL), as a machine lost or the OOM killer would: nothing of it runs on.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the process to stop (SIGTERM), as a deploy or a scale-down does, and waits for it to exit.</summary>
    /// <returns>Its exit code.</returns>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (SendSignal(_process.Id, SigTerm) != 0) throw new InvalidOperationException($"kill(SIGTERM) of {_process.Id} failed.");
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
