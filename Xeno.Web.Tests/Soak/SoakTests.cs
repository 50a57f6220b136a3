using Xeno.Web.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Xeno.Web.Tests.Soak;

/// <summary>The soak of <c>soak/run</c>, short: 45 seconds of dashboards, API reads and webhooks while a full sync runs.
/// It asserts what must hold however slow the machine is (nothing failed, nothing lost), never how fast.</summary>
[Collection(XenoCollection.Name)]
public sealed class SoakTests(XenoFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task a_short_soak_has_no_errors_and_loses_no_webhook()
    {
        // A database of its own beside the tests' (its own Hangfire queues too), on the cluster the tests started.
        var owner = fixture.Postgres is { } postgres ? await postgres.CreateDatabaseAsync("soak_" + Guid.NewGuid().ToString("N")[..8]) : null;
        var result = await SoakRun.RunAsync(new SoakOptions
        {
            Duration = TimeSpan.FromSeconds(45), Orders = 1500, WebhooksPerSecond = 5, DashboardPollers = 1, ApiReaders = 1,
            OwnerConnectionString = owner, Log = output.WriteLine,
        });
        output.WriteLine(result.Report);
        Assert.Empty(result.ErrorSamples);
        Assert.Equal(0, result.Errors);
        Assert.True(result.WebhooksSent > 0);
        Assert.Equal(result.WebhooksSent, result.WebhooksApplied);
        Assert.True(result.SyncsCompleted > 0);
    }
}
