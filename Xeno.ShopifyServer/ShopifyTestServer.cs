using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Xeno.ShopifyServer;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (random port) serving the Admin API for <see cref="State"/>, so
/// Xeno's own HttpClient, retries and timeouts run exactly as against Shopify.
/// </summary>
public sealed class ShopifyTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ShopifyTestServer(WebApplication app, ShopifyServerState state, string origin)
    {
        _app = app;
        State = state;
        Origin = origin;
    }

    public ShopifyServerState State { get; }

    /// <summary>"http://127.0.0.1:PORT".</summary>
    public string Origin { get; }

    /// <summary>"http://127.0.0.1:PORT/{shop}": the literal <c>{shop}</c> is for the client to replace by the shop domain.</summary>
    public string ApiBaseUrl => Origin + "/{shop}";

    /// <summary>The GraphQL endpoint of one shop, e.g. for a raw HttpClient in tests.</summary>
    public string GraphQLUrl(string shopDomain, string version = ShopifySchema.ApiVersion) =>
        $"{Origin}/{shopDomain}/admin/api/{version}/graphql.json";

    /// <summary>Where an app sends a merchant to install it on one shop (<c>GET …/admin/oauth/authorize?client_id&amp;scope&amp;redirect_uri&amp;state</c>).</summary>
    public string AuthorizeUrl(string shopDomain) => $"{Origin}/{shopDomain}/admin/oauth/authorize";

    /// <summary>The token endpoint of one shop (<c>POST …/admin/oauth/access_token</c>).</summary>
    public string AccessTokenUrl(string shopDomain) => $"{Origin}/{shopDomain}/admin/oauth/access_token";

    public static async Task<ShopifyTestServer> StartAsync(ShopifyServerState? state = null)
    {
        state ??= new ShopifyServerState();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddSingleton(state);
        var app = builder.Build();
        app.MapShopifyAdminApi();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        return new ShopifyTestServer(app, state, $"http://127.0.0.1:{port}");
    }

    /// <summary>Stops the server, cancels the bulk operations still running and deletes every result file.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var shop in State.Shops)
            await shop.Bulk.StopAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
