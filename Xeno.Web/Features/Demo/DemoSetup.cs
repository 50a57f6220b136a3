using System.Security.Cryptography;
using Xeno.ShopifyServer;

namespace Xeno.Web.Features.Demo;

/// <summary>
/// Demo mode: a Shopify-compatible server with generated shops runs inside Xeno's process (on its own
/// loopback port). A demo account is connected to one of them, so that a newcomer sees Xeno work without a
/// Shopify store of their own, and every other account gets a demo shop of its own to install through
/// Shopify's consent page (<see cref="DemoShops"/>).
/// </summary>
public static class DemoSetup
{
    public const string DemoShopDomain = "xeno-demo.myshopify.com";
    public const string DemoEmail = "demo@xeno.test";

    public static bool IsEnabled(IConfiguration config, IHostEnvironment env) =>
        config.GetValue("Demo:Enabled", env.IsDevelopment());

    public static WebApplicationBuilder AddXenoDemo(this WebApplicationBuilder builder)
    {
        var credentials = new DemoCredentials();
        builder.Services.AddSingleton(credentials);
        if (!IsEnabled(builder.Configuration, builder.Environment))
        {
            builder.Services.AddSingleton(new DemoShops());
            return builder;
        }

        var state = new ShopifyServerState();
        var demoToken = "shpat_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var demoShop = ShopGenerator.Generate(seed: 2026, orderCount: 1500,
            new ShopGeneratorOptions { Domain = DemoShopDomain, Name = "Xeno Demo Outfitters" });
        state.AddShop(demoShop, demoToken);
        // A Plus-sized bucket, so that the first sync of the demo takes seconds rather than minutes.
        demoShop.RateLimit.Configure(maximumAvailable: 20_000, restoreRate: 10_000);

        // Xeno is the demo server's own public app: its client id and secret, its callback, and the secret its
        // webhooks are signed with all come from here.
        builder.Configuration["Shopify:ApiSecret"] ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        builder.Configuration["Shopify:ApiKey"] = state.DefaultApp.ClientId;
        state.AppSecret = builder.Configuration["Shopify:ApiSecret"]!;
        builder.Configuration["App:PublicUrl"] ??= OwnAddress(builder.Configuration);
        state.DefaultApp.RedirectUris.Add(builder.Configuration["App:PublicUrl"]!.TrimEnd('/') + Install.CompleteInstall.Path);

        // Started now, before the app is built, so that Shopify:ApiBaseUrl can point at it.
        var server = ShopifyTestServer.StartAsync(state).GetAwaiter().GetResult();
        builder.Configuration["Shopify:ApiBaseUrl"] = server.ApiBaseUrl;
        builder.Services.AddSingleton(server);
        builder.Services.AddSingleton(new DemoShops(server));
        builder.Services.AddHostedService<DemoActivity>();

        credentials.Email = DemoEmail;
        credentials.Password = "demo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        builder.Services.AddHostedService(sp => new DemoAccountSeeder(sp, credentials, demoToken));
        return builder;
    }

    /// <summary>Where this process listens (the first of --urls / ASPNETCORE_URLS), with a wildcard host made loopback.</summary>
    private static string OwnAddress(IConfiguration config)
    {
        var first = (config["urls"] ?? config["ASPNETCORE_URLS"] ?? "http://127.0.0.1:5080").Split(';', StringSplitOptions.RemoveEmptyEntries)[0];
        return first.Replace("://*", "://127.0.0.1").Replace("://+", "://127.0.0.1").Replace("://0.0.0.0", "://127.0.0.1").TrimEnd('/');
    }
}
