using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Demo;

/// <summary>Makes sure the demo account exists with this run's password and has the demo shop connected.</summary>
public sealed class DemoAccountSeeder(IServiceProvider services, DemoCredentials credentials, string demoShopToken) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<XenoDb>();
        var clock = sp.GetRequiredService<TimeProvider>();
        var logger = sp.GetRequiredService<ILogger<DemoAccountSeeder>>();

        var user = await db.Users.FirstOrDefaultAsync(u => u.Email == credentials.Email, ct);
        if (user is null)
        {
            user = new User { Id = Guid.CreateVersion7(), Email = credentials.Email!, PasswordHash = "", CreatedAt = clock.GetUtcNow() };
            db.Users.Add(user);
        }
        // A new password every run: the demo account is never reachable with an old, printed one.
        user.PasswordHash = PasswordHasher.Hash(credentials.Password!);
        user.TokenVersion++;
        await db.SaveChangesAsync(ct);

        var outcome = await ConnectStore.ExecuteAsync(user.Id, new ConnectStore.Request(DemoSetup.DemoShopDomain, demoShopToken),
            db, sp.GetRequiredService<TenantContext>(), sp.GetRequiredService<ShopifyAdminClient>(),
            sp.GetRequiredService<IDataProtectionProvider>(), sp.GetRequiredService<Hangfire.IBackgroundJobClient>(), sp.GetRequiredService<IConfiguration>(), clock, logger, ct);
        if (outcome is not ConnectStore.Outcome.Connected)
            logger.LogWarning("The demo shop could not be connected to the demo account: {Outcome}", outcome.GetType().Name);

        // Printed to the console for the person who started Xeno, not written to the logs.
        Console.WriteLine($"Xeno demo mode: log in as {credentials.Email} with password {credentials.Password}");
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
