using System.Security.Cryptography;
using Xeno.ShopifyServer;

namespace Xeno.Web.Features.Demo;

/// <summary>
/// Demo mode: a Shopify-compatible server with generated shops runs inside Xeno's process (on its own
/// loopback port), and a demo account is connected to one of them, so that a newcomer sees Xeno work
/// without a Shopify store of their own.
/// </summary>
public static class DemoSetup
{
    public const string DemoShopDomain = "xeno-demo.myshopify.com";
    public const string TryShopDomain = "try-xeno.myshopify.com";
    public const string DemoEmail = "demo@xeno.test";

    public static bool IsEnabled(IConfiguration config, IHostEnvironment env) =>
        config.GetValue("Demo:Enabled", env.IsDevelopment());

    public static WebApplicationBuilder AddXenoDemo(this WebApplicationBuilder builder)
    {
        var credentials = new DemoCredentials();
        var tryShop = new DemoShopInfo();
        builder.Services.AddSingleton(credentials);
        builder.Services.AddSingleton(tryShop);
        if (!IsEnabled(builder.Configuration, builder.Environment)) return builder;

        var state = new ShopifyServerState();
        var demoToken = "shpat_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var demoShop = ShopGenerator.Generate(seed: 2026, orderCount: 1500,
            new ShopGeneratorOptions { Domain = DemoShopDomain, Name = "Xeno Demo Outfitters" });
        state.AddShop(demoShop, demoToken);
        tryShop.ShopDomain = TryShopDomain;
        tryShop.AccessToken = "shpat_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var tryXeno = ShopGenerator.Generate(seed: 7, orderCount: 300,
            new ShopGeneratorOptions { Domain = TryShopDomain, Name = "Try Xeno Goods" });
        state.AddShop(tryXeno, tryShop.AccessToken);
        // A Plus-sized bucket, so that the first sync of the demo takes seconds rather than minutes.
        foreach (var shop in new[] { demoShop, tryXeno }) shop.RateLimit.Configure(maximumAvailable: 20_000, restoreRate: 10_000);

        // Started now, before the app is built, so that Shopify:ApiBaseUrl can point at it.
        var server = ShopifyTestServer.StartAsync(state).GetAwaiter().GetResult();
        builder.Configuration["Shopify:ApiBaseUrl"] = server.ApiBaseUrl;
        builder.Services.AddSingleton(server);

        credentials.Email = DemoEmail;
        credentials.Password = "demo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        builder.Services.AddHostedService(sp => new DemoAccountSeeder(sp, credentials, demoToken));
        return builder;
    }
}
