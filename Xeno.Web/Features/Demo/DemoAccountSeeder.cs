using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Xeno.Web.Features.Auth;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Demo;

/// <summary>Makes sure the demo account exists with this run's password and has the demo shop connected, and that
/// every account's own demo shop exists again on this run's demo server.</summary>
public sealed class DemoAccountSeeder(IServiceProvider services, DemoCredentials credentials, string demoShopToken) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<XenoDb>();
        var clock = sp.GetRequiredService<TimeProvider>();
        var logger = sp.GetRequiredService<ILogger<DemoAccountSeeder>>();

        var user = await Accounts.SetPasswordAsync(sp.GetRequiredService<SecretsDb>(), clock, credentials.Email!, credentials.Password!, ct);

        // The demo shop is a custom app's shop here, connected with its token and the app's secret (Xeno's own app in
        // demo mode), so that its webhooks are subscribed and verified.
        var appSecret = sp.GetRequiredService<IOptions<ShopifyOptions>>().Value.ApiSecret;
        var outcome = await ConnectStore.ExecuteAsync(user.Id, new ConnectStore.Request(DemoSetup.DemoShopDomain, demoShopToken, appSecret),
            ConnectStore.Services.From(sp), ct);
        if (outcome is not ConnectStore.Outcome.Connected)
            logger.LogWarning("The demo shop could not be connected to the demo account: {Outcome}", outcome.GetType().Name);

        // The demo server forgets everything between runs; the shops come back the same (their seeds are their
        // domains), though their tokens do not, so those stores ask to be reinstalled.
        var demoShops = sp.GetRequiredService<DemoShops>();
        var domains = await db.Stores.Where(s => s.ShopDomain.StartsWith(DemoShops.DomainPrefix)).Select(s => s.ShopDomain).ToListAsync(ct);
        foreach (var domain in domains) demoShops.Ensure(domain);

        // Printed to the console for the person who started Xeno, not written to the logs.
        Console.WriteLine($"Xeno demo mode: log in as {credentials.Email} with password {credentials.Password}");
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
