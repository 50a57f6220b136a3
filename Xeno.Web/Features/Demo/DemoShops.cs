using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;

namespace Xeno.Web.Features.Demo;

/// <summary>A demo shop of one account's own, with what each way of connecting it needs.</summary>
public sealed record DemoShop(string Domain, string ClientId, string ClientSecret, string AccessToken, string ApiSecret);

/// <summary>
/// Every account gets a demo shop of its own to install (in demo mode only), made the first time it is asked for and
/// the same on every run (its seed comes from its domain). Each also has an app of the shop's own organization (for the
/// client credentials way in) and a custom app with a pasted token, so all three ways can be tried.
/// </summary>
public sealed class DemoShops(ShopifyTestServer? server = null)
{
    public const string DomainPrefix = "try-xeno-";

    // Enough for a demo; a cap keeps a flood of registrations from filling memory with generated shops.
    private const int MaxShops = 500;

    private readonly ConcurrentDictionary<string, Lazy<DemoShop>> _shops = new();

    public bool Enabled => server is not null;

    public static string DomainFor(Guid userId) =>
        DomainPrefix + Convert.ToHexStringLower(SHA256.HashData(userId.ToByteArray()))[..8] + ".myshopify.com";

    /// <summary>The account's demo shop, made on first use; null outside demo mode or past the cap.</summary>
    public DemoShop? For(Guid userId) => Ensure(DomainFor(userId));

    /// <summary>Makes the shop exist on the demo server again (after a restart) so that a reinstall finds it.</summary>
    public DemoShop? Ensure(string domain)
    {
        if (server is null || !domain.StartsWith(DomainPrefix, StringComparison.Ordinal)) return null;
        if (!_shops.ContainsKey(domain) && _shops.Count >= MaxShops) return null;
        return _shops.GetOrAdd(domain, d => new Lazy<DemoShop>(() => Create(server.State, d))).Value;
    }

    private static DemoShop Create(ShopifyServerState state, string domain)
    {
        var seed = BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(domain)));
        var shop = ShopGenerator.Generate(seed, orderCount: 300, new ShopGeneratorOptions { Domain = domain, Name = "Try Xeno Goods" });
        // A Plus-sized bucket, so that the first sync takes seconds rather than minutes.
        shop.RateLimit.Configure(maximumAvailable: 20_000, restoreRate: 10_000);
        state.AddShop(shop);

        var suffix = domain[DomainPrefix.Length..domain.IndexOf('.')];
        var organizationApp = new ShopifyApp
        {
            ClientId = "demo-org-app-" + suffix, ClientSecret = Secret(), Name = "Our analytics app", Kind = ShopifyAppKind.DevDashboard,
            OrganizationId = shop.OrganizationId,
        };
        state.AddApp(organizationApp);
        var customApp = new ShopifyApp { ClientId = "demo-custom-app-" + suffix, ClientSecret = Secret(), Name = "Reports (custom app)", Kind = ShopifyAppKind.AdminCustom };
        state.AddApp(customApp);
        var token = "shpat_" + Secret();
        state.AddToken(domain, token, customApp);
        return new DemoShop(domain, organizationApp.ClientId, organizationApp.ClientSecret, token, customApp.ClientSecret);
    }

    private static string Secret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
