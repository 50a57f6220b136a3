using System.Globalization;

namespace Xeno.Bench;

/// <summary>
/// How busy the machine was, and with what: the CPU time of the whole machine (/proc/stat) against the CPU time of the
/// benchmark's own processes (Xeno, this process and what it ran, the private PostgreSQL and its backends; exited children
/// count through their parent's cutime/cstime). What is left is other processes', e.g. other builds and tests on a shared
/// machine, which slow every number here down.
/// </summary>
internal sealed class MachineLoad(Func<int?> xenoPid, string postmasterPidFile)
{
    public sealed record Snapshot(long Busy, long Total, long Ours);

    public sealed record Share(double Others, double Ours, double LoadAverage)
    {
        public override string ToString() =>
            $"other processes used {Fmt.Pct(Others)} of the machine's CPU, the benchmark's own (Xeno, PostgreSQL, bench, wrk) {Fmt.Pct(Ours)}";
    }

    public Snapshot Take()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = cpu.Take(8).Sum(); // user nice system idle iowait irq softirq steal (guest time is inside user)
        var busy = total - cpu[3] - cpu[4];

        var roots = new HashSet<int> { Environment.ProcessId };
        if (xenoPid() is { } x) roots.Add(x);
        if (ReadPostmaster() is { } pm) roots.Add(pm);
        long ours = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            var stat = ReadStat(pid);
            if (stat is null) continue;
            var (ppid, self, children) = stat.Value;
            if (roots.Contains(pid)) ours += self + children;
            else if (roots.Contains(ppid)) ours += self; // live children: their own time (their exit moves it to the parent's cutime)
        }
        return new Snapshot(busy, total, ours);
    }

    public static Share Between(Snapshot a, Snapshot b)
    {
        double total = Math.Max(1, b.Total - a.Total);
        var ours = Math.Max(0, b.Ours - a.Ours);
        var others = Math.Max(0, b.Busy - a.Busy - ours);
        var load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        return new Share(others / total, ours / total, load);
    }

    /// <summary>Others' share of the CPU over the next few seconds.</summary>
    public async Task<Share> SampleAsync(TimeSpan window, CancellationToken ct)
    {
        var a = Take();
        await Task.Delay(window, ct);
        return Between(a, Take());
    }

    /// <summary>Waits, at most <paramref name="bound"/>, for other processes to use less than 15% of the CPU over 3 s.</summary>
    public async Task<(bool Quiet, Share Last, TimeSpan Waited)> WaitForQuietAsync(TimeSpan bound, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var share = await SampleAsync(TimeSpan.FromSeconds(3), ct);
            if (share.Others < 0.15) return (true, share, clock.Elapsed);
            if (clock.Elapsed > bound) return (false, share, clock.Elapsed);
        }
    }

    private int? ReadPostmaster()
    {
        try { return File.Exists(postmasterPidFile) ? int.Parse(File.ReadLines(postmasterPidFile).First().Trim(), CultureInfo.InvariantCulture) : null; }
        catch (IOException) { return null; }
    }

    /// <summary>ppid, utime + stime, cutime + cstime (clock ticks) of a process; null when it is gone.</summary>
    private static (int Ppid, long Self, long Children)? ReadStat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) ": state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
            return (int.Parse(f[1], CultureInfo.InvariantCulture),
                long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture),
                long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }
}
