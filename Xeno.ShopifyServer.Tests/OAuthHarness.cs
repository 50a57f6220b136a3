using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer.Tests;

/// <summary>
/// A server with one shop (no token yet) and one registered public app, and an HttpClient that does not follow
/// redirects, so tests can read the install redirect as the app's callback would.
/// </summary>
internal sealed class OAuthHarness : IAsyncDisposable
{
    public const string RedirectUri = "https://xeno.example/auth/shopify/callback";
    public static readonly DateTimeOffset Start = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private OAuthHarness(ShopifyServerState state, ShopifyTestServer server, FixedClock clock, Shop shop, ShopifyApp app)
    {
        State = state;
        Server = server;
        Clock = clock;
        Shop = shop;
        App = app;
    }

    public ShopifyServerState State { get; }
    public ShopifyTestServer Server { get; }
    public FixedClock Clock { get; }
    public Shop Shop { get; }
    public ShopifyApp App { get; }
    public string Domain => Shop.MyshopifyDomain;
    public HttpClient Http { get; } = new(new HttpClientHandler { AllowAutoRedirect = false });

    public static async Task<OAuthHarness> StartAsync(string domain, int orders = 0)
    {
        var clock = new FixedClock(Start);
        var state = new ShopifyServerState(clock);
        var shop = orders > 0
            ? ShopGenerator.Generate(31, orders, new ShopGeneratorOptions { Now = Start.AddHours(-1), Domain = domain, Name = "Acme Outfitters" })
            : new Shop(domain, "Acme Outfitters", "USD", "America/New_York");
        state.AddShop(shop);
        var app = new ShopifyApp { ClientId = "xeno-public", ClientSecret = "shpss_public", RedirectUris = [RedirectUri] };
        state.AddApp(app);
        var server = await ShopifyTestServer.StartAsync(state);
        return new OAuthHarness(state, server, clock, shop, app);
    }

    public string AuthorizeUrl(string? clientId = null, string scope = "read_products,read_orders", string redirectUri = RedirectUri, string state = "nonce-1", string? domain = null) =>
        QueryHelpers.AddQueryString(Server.AuthorizeUrl(domain ?? Domain), new Dictionary<string, string?>
        {
            ["client_id"] = clientId ?? App.ClientId,
            ["scope"] = scope,
            ["redirect_uri"] = redirectUri,
            ["state"] = state,
        });

    /// <summary>Installs with auto-approve and returns the callback's query.</summary>
    public async Task<Dictionary<string, string>> ApproveAsync(string? clientId = null, string scope = "read_products,read_orders")
    {
        State.OAuth.AutoApprove = true;
        using var response = await Http.GetAsync(AuthorizeUrl(clientId, scope));
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        return Query(response.Headers.Location!);
    }

    public static Dictionary<string, string> Query(Uri location) =>
        QueryHelpers.ParseQuery(location.Query).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);

    /// <summary>POSTs JSON (or a form) to the token endpoint; the status and the parsed body.</summary>
    public async Task<(int Status, JsonElement Body)> TokenAsync(Dictionary<string, object?> fields, bool form = false, string? domain = null)
    {
        HttpContent content = form
            ? new FormUrlEncodedContent(fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Key, f.Value!.ToString()!)))
            : JsonContent.Create(fields);
        using var response = await Http.PostAsync(Server.AccessTokenUrl(domain ?? Domain), content);
        var text = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(text);
        return ((int)response.StatusCode, json.RootElement.Clone());
    }

    public Task<(int Status, JsonElement Body)> ExchangeAsync(string code, bool expiring = true, string? secret = null) =>
        TokenAsync(new()
        {
            ["client_id"] = App.ClientId,
            ["client_secret"] = secret ?? App.ClientSecret,
            ["code"] = code,
            ["expiring"] = expiring ? "1" : null,
        });

    public Task<(int Status, JsonElement Body)> RefreshAsync(string refreshToken) =>
        TokenAsync(new()
        {
            ["client_id"] = App.ClientId,
            ["client_secret"] = App.ClientSecret,
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshToken,
        });

    /// <summary>Installs and exchanges the code for an expiring pair.</summary>
    public async Task<(string Access, string Refresh)> InstallAsync()
    {
        var code = (await ApproveAsync())["code"];
        var (status, body) = await ExchangeAsync(code);
        Assert.Equal(200, status);
        return (body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!);
    }

    /// <summary>The status of a small GraphQL query made with <paramref name="token"/>.</summary>
    public async Task<int> ApiStatusAsync(string token)
    {
        using var api = new ShopifyApi(Server, Domain, token);
        return (await api.PostAsync("{ shop { name } }")).Status;
    }

    public static string Error((int Status, JsonElement Body) response) => response.Body.GetProperty("error").GetString()!;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        State.Webhooks.Dispose();
    }
}
