using CsCheck;

namespace Xeno.Web.Tests.BadInput;

/// <summary>
/// How many cases each property tries. The defaults keep the bad-input suite under a minute on CI's two cores;
/// <c>XENO_BADINPUT_SCALE=N</c> multiplies every count by N for a long hunt, and <c>XENO_BADINPUT_SEED</c> replays the
/// seed a failure printed. Cases run one at a time: every case compares the database before and after itself.
/// </summary>
internal static class PropertyRun
{
    public static int Scale => int.TryParse(Environment.GetEnvironmentVariable("XENO_BADINPUT_SCALE"), out var s) && s > 0 ? s : 1;

    public static string? Seed => Environment.GetEnvironmentVariable("XENO_BADINPUT_SEED") is { Length: > 0 } seed ? seed : null;

    /// <summary>Runs <paramref name="check"/> on <paramref name="cases"/> × scale generated cases, one at a time. On a
    /// failure CsCheck keeps sampling for a smaller failing case and reports the smallest, with its seed.</summary>
    public static Task RunAsync<T>(Gen<T> gen, Func<T, Task> check, int cases, Func<T, string> print) =>
        gen.SampleAsync(check, seed: Seed, iter: cases * Scale, threads: 1, print: print);
}
