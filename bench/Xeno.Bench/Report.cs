using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Xeno.Bench;

/// <summary>One target of the issue, as measured: pass, miss, or not measured (null).</summary>
internal sealed record TargetResult(string Target, string Measured, bool? Pass, string Detail)
{
    public string Verdict => Pass switch { true => "**pass**", false => "**MISS**", null => "not measured" };

    /// <summary>value ≤ limit (or &lt; when strict): pass or miss, and by how much.</summary>
    public static TargetResult AtMost(string target, double value, double limit, Func<double, string> format, string? measured = null, bool strict = true)
    {
        if (double.IsNaN(value)) return new(target, measured ?? "—", null, "no value");
        var pass = strict ? value < limit : value <= limit;
        var by = Math.Abs(limit - value);
        var detail = pass ? $"{format(by)} under the limit ({value / limit:0.00}× of it)" : $"{format(by)} over the limit ({value / limit:0.00}× of it)";
        return new(target, measured ?? format(value), pass, detail);
    }

    /// <summary>value ≥ limit: pass or miss, and by how much.</summary>
    public static TargetResult AtLeast(string target, double value, double limit, Func<double, string> format, string? measured = null)
    {
        if (double.IsNaN(value)) return new(target, measured ?? "—", null, "no value");
        var pass = value >= limit;
        var by = Math.Abs(value - limit);
        var detail = pass ? $"{format(by)} above the minimum ({value / limit:0.00}× of it)" : $"{format(by)} short of the minimum ({value / limit:0.00}× of it)";
        return new(target, measured ?? format(value), pass, detail);
    }

    public static TargetResult NotMeasured(string target, string why) => new(target, "—", null, why);
}

/// <summary>The results file: the machine, the targets with pass/miss, then each measurement with how it was taken.</summary>
internal sealed class Report(BenchOptions options)
{
    private readonly List<(string Title, List<string> Lines)> _sections = [];
    private readonly List<TargetResult> _targets = [];
    private readonly List<string> _notes = [];
    private readonly List<string> _failures = [];
    private readonly List<string> _load = [];

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.Now;
    public TimeSpan Duration { get; set; }
    public List<(string Key, string Value)> Machine { get; } = [];

    public void Target(TargetResult target)
    {
        lock (_targets) _targets.Add(target);
        Log.Info($"target: {target.Target}: {target.Measured} → {target.Verdict.Trim('*')} ({target.Detail})");
    }

    public void Section(string title, List<string> lines) => _sections.Add((title, lines));
    /// <summary>One row of the machine-load table: how busy the machine was during a phase, and with what.</summary>
    public void Load(string phase, string waited, MachineLoad.Share share) =>
        _load.Add($"| {phase} | {waited} | {Fmt.Pct(share.Others)} | {Fmt.Pct(share.Ours)} | {share.LoadAverage:0.0} |");

    public void Note(string note)
    {
        _notes.Add(note);
        Log.Info("note: " + note);
    }

    public void Failed(string phase, Exception e)
    {
        var message = e is OperationCanceledException ? "did not finish within its time bound" : $"{e.GetType().Name}: {e.Message}";
        _failures.Add($"{phase}: {message}");
        Log.Info($"FAILED {phase}: {e}");
    }

    public void DescribeMachine(BenchEnvironment? env)
    {
        Machine.Add(("Date", StartedAt.ToString("yyyy-MM-dd HH:mm zzz", Fmt.C)));
        Machine.Add(("Mode", options.Quick ? "quick (smoke run: 10k orders only, short durations; targets that need the full run are not measured)" : "full"));
        Machine.Add(("CPU", ReadCpuModel()));
        Machine.Add(("Cores", $"{Environment.ProcessorCount} logical"));
        Machine.Add(("RAM", ReadMemTotal()));
        Machine.Add(("OS / kernel", $"{ReadOsName()} / Linux {Read("/proc/sys/kernel/osrelease")}"));
        Machine.Add((".NET", $"{RuntimeInformation.FrameworkDescription} (SDK {RunQuiet("dotnet", "--version")})"));
        if (env is not null)
        {
            Machine.Add(("PostgreSQL", env.PostgresVersion));
            Machine.Add(("PostgreSQL settings", env.PostgresSettings + " (a private cluster on loopback; defaults otherwise)"));
        }
        Machine.Add(("Xeno", $"commit {RunQuiet("git", "rev-parse --short HEAD")}{(RunQuiet("git", "status --porcelain --untracked-files=no").Length > 0 ? " (with uncommitted changes)" : "")}, " +
                             "published Release, run as `dotnet Xeno.Web.dll --role all` (ASPNETCORE_ENVIRONMENT=Production)"));
        Machine.Add(("wrk", RunQuiet("wrk", "--version").Split('\n')[0].Trim() is { Length: > 0 } v ? v.Split(" Copyright")[0] : "not installed"));
    }

    public string Render()
    {
        var md = new StringBuilder();
        md.AppendLine($"# Xeno benchmark, {StartedAt:yyyy-MM-dd HH:mm} ({(options.Quick ? "quick" : "full")} run)");
        md.AppendLine();
        md.AppendLine($"Produced by `bench/run{(options.Quick ? " --quick" : "")}` in {Fmt.Duration(Duration)}. How each number is measured: `bench/README.md`.");
        md.AppendLine();
        md.AppendLine("## Machine");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("|---|---|");
        foreach (var (key, value) in Machine) md.AppendLine($"| {key} | {value} |");
        md.AppendLine();
        md.AppendLine("## Targets");
        md.AppendLine();
        md.AppendLine("| target | measured | result | by how much |");
        md.AppendLine("|---|---|---|---|");
        foreach (var t in _targets) md.AppendLine($"| {t.Target} | {t.Measured} | {t.Verdict} | {t.Detail} |");
        md.AppendLine();
        if (_load.Count > 0)
        {
            md.AppendLine("## Machine load during the run");
            md.AppendLine();
            md.AppendLine("Other processes on the machine (other builds and tests, anything not started by the benchmark) take CPU from Xeno and");
            md.AppendLine("PostgreSQL and slow every number down. Before each phase the bench waits (bounded) for them to use under 15% of the CPU.");
            md.AppendLine();
            md.AppendLine("| phase | waited for a quiet machine | CPU used by other processes | CPU used by the benchmark | load average at the end |");
            md.AppendLine("|---|---|---|---|---|");
            foreach (var row in _load) md.AppendLine(row);
            md.AppendLine();
        }
        foreach (var (title, lines) in _sections)
        {
            md.AppendLine("## " + title);
            md.AppendLine();
            foreach (var line in lines) md.AppendLine(line);
            md.AppendLine();
        }
        if (_failures.Count > 0)
        {
            md.AppendLine("## Failures");
            md.AppendLine();
            foreach (var f in _failures) md.AppendLine("- " + f);
            md.AppendLine();
        }
        if (_notes.Count > 0)
        {
            md.AppendLine("## Notes");
            md.AppendLine();
            foreach (var n in _notes) md.AppendLine("- " + n);
            md.AppendLine();
        }
        return md.ToString();
    }

    public string Write()
    {
        Directory.CreateDirectory(options.ResultsDir);
        var text = Render();
        var path = Path.Combine(options.ResultsDir, $"{StartedAt:yyyy-MM-dd-HHmm}.md");
        File.WriteAllText(path, text);
        File.WriteAllText(Path.Combine(options.ResultsDir, "latest.md"), text);
        return path;
    }

    private static string ReadCpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";

    private static string ReadMemTotal()
    {
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return line is null ? "unknown" : $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Fmt.C) / 1024.0 / 1024.0:0.0} GiB";
    }

    private static string ReadOsName() =>
        File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "Linux"
            : "Linux";

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "?";

    public static string RunQuiet(string program, string arguments)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(program, arguments)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            })!;
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit(10_000);
            return output.Trim();
        }
        catch (System.ComponentModel.Win32Exception) { return ""; }
    }
}
