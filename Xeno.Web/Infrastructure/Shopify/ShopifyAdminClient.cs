using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Xeno.Web.Infrastructure.Shopify;

/// <summary>Shopify refused the shop's access token (401/403): the merchant has to reconnect.</summary>
public sealed class ShopifyAuthException(string message) : Exception(message);

/// <summary>Shopify answered with GraphQL errors, or with something that is not GraphQL.</summary>
public sealed class ShopifyApiException(string message) : Exception(message);

/// <summary>Typed client for Shopify's GraphQL Admin API. Every document it sends is a constant in
/// <see cref="ShopifyQueries"/>, validated by a test against Shopify's real schema.</summary>
public sealed class ShopifyAdminClient(HttpClient http, IOptions<ShopifyOptions> options)
{
    public sealed record ShopInfo(string Name, string CurrencyCode, string IanaTimezone, string MyshopifyDomain);

    public async Task<ShopInfo> GetShopAsync(string shopDomain, string accessToken, CancellationToken ct = default)
    {
        var data = await QueryAsync(shopDomain, accessToken, ShopifyQueries.Shop, null, ct);
        var shop = data["shop"] ?? throw new ShopifyApiException("Shopify answered without a shop.");
        return new ShopInfo(
            (string?)shop["name"] ?? shopDomain,
            (string?)shop["currencyCode"] ?? throw new ShopifyApiException("Shopify answered without the shop's currency."),
            (string?)shop["ianaTimezone"] ?? "UTC",
            (string?)shop["myshopifyDomain"] ?? shopDomain);
    }

    public async Task<JsonObject> QueryAsync(string shopDomain, string accessToken, string document, object? variables, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, GraphQlUrl(shopDomain))
        {
            Content = JsonContent.Create(new { query = document, variables }),
        };
        request.Headers.Add("X-Shopify-Access-Token", accessToken);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw new ShopifyAuthException("Shopify refused Xeno's access token for this store. Reconnect the store with a valid token.");
        if (!response.IsSuccessStatusCode)
            throw new ShopifyApiException($"Shopify answered HTTP {(int)response.StatusCode}.");

        JsonObject body;
        try { body = await response.Content.ReadFromJsonAsync<JsonObject>(ct) ?? throw new ShopifyApiException("Shopify sent an empty answer."); }
        catch (JsonException) { throw new ShopifyApiException("Shopify's answer was not JSON."); }
        if (body["errors"] is JsonArray { Count: > 0 } errors)
            throw new ShopifyApiException("Shopify refused the query: " + string.Join("; ", errors.Select(e => (string?)e?["message"])));
        return body["data"] as JsonObject ?? throw new ShopifyApiException("Shopify answered without data.");
    }

    public Uri GraphQlUrl(string shopDomain)
    {
        var origin = options.Value.ApiBaseUrl.Replace("{shop}", shopDomain).TrimEnd('/');
        return new Uri($"{origin}/admin/api/{options.Value.ApiVersion}/graphql.json");
    }
}

/// <summary>Every GraphQL document Xeno sends. Kept together so that one test can validate them all
/// against Shopify's schema.</summary>
public static class ShopifyQueries
{
    public const string Shop = """
        query Shop {
          shop { name currencyCode ianaTimezone myshopifyDomain }
        }
        """;

    public static IEnumerable<(string Name, string Document)> All() =>
        typeof(ShopifyQueries).GetFields().Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (f.Name, (string)f.GetRawConstantValue()!));
}

public static class ShopifySetup
{
    public static WebApplicationBuilder AddXenoShopify(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<ShopifyOptions>(builder.Configuration.GetSection("Shopify"));
        builder.Services.AddHttpClient<ShopifyAdminClient>(c => c.Timeout = TimeSpan.FromSeconds(30));
        return builder;
    }
}
