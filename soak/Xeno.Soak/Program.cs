// soak/run [--minutes N] [--orders N] [--webhooks-per-second N]: see soak/README.md. Exits 1 when anything failed or was lost.
using System.Globalization;
using Xeno.Web.Tests.Soak;

var options = new SoakOptions();
for (var i = 0; i + 1 < args.Length; i += 2)
{
    var value = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
    options = args[i] switch
    {
        "--minutes" => options with { Duration = TimeSpan.FromMinutes(value) },
        "--orders" => options with { Orders = (int)value },
        "--webhooks-per-second" => options with { WebhooksPerSecond = value },
        _ => throw new ArgumentException($"Unknown option {args[i]}; usage: soak/run [--minutes N] [--orders N] [--webhooks-per-second N]"),
    };
}
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; interrupt.Cancel(); };
var result = await SoakRun.RunAsync(options, interrupt.Token);
Console.WriteLine(result.Report);
return result.Passed ? 0 : 1;
