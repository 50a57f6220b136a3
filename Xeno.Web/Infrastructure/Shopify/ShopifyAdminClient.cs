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

    // Page sizes keep every query under Shopify's 1,000-point limit (a test validates that too):
    // nested lists multiply, so an orders page is small and long line lists are fetched in follow-ups.
    public const int OrdersPageSize = 4;
    public const int LineItemsPerOrder = 20;

    public const string Products = """
        query Products($first: Int!, $after: String, $query: String) {
          products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
            pageInfo { hasNextPage endCursor }
            nodes {
              id title status createdAt updatedAt
              variants(first: 50) { nodes { id title sku price } }
            }
          }
        }
        """;

    public const string Customers = """
        query Customers($first: Int!, $after: String, $query: String) {
          customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
            pageInfo { hasNextPage endCursor }
            nodes {
              id firstName lastName createdAt updatedAt
              defaultEmailAddress { emailAddress }
              defaultPhoneNumber { phoneNumber }
              statistics { rfmGroup }
            }
          }
        }
        """;

    public const string Orders = """
        query Orders($first: Int!, $after: String, $query: String) {
          orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
            pageInfo { hasNextPage endCursor }
            nodes {
              id name createdAt updatedAt processedAt cancelledAt test currencyCode presentmentCurrencyCode
              customer { id }
              totalPriceSet { shopMoney { amount } presentmentMoney { amount } }
              currentTotalPriceSet { shopMoney { amount } }
              totalShippingPriceSet { shopMoney { amount } }
              totalTaxSet { shopMoney { amount } }
              totalDiscountsSet { shopMoney { amount } }
              lineItems(first: 20) {
                pageInfo { hasNextPage endCursor }
                nodes { ...XenoLineItem }
              }
              refunds {
                id createdAt
                refundLineItems(first: 20) {
                  pageInfo { hasNextPage }
                  nodes {
                    quantity
                    lineItem { id }
                    subtotalSet { shopMoney { amount } }
                    totalTaxSet { shopMoney { amount } }
                  }
                }
                refundShippingLines(first: 5) {
                  pageInfo { hasNextPage }
                  nodes {
                    subtotalAmountSet { shopMoney { amount } }
                    taxAmountSet { shopMoney { amount } }
                  }
                }
              }
            }
          }
        }
        fragment XenoLineItem on LineItem {
          id title quantity isGiftCard
          product { id }
          variant { id }
          originalUnitPriceSet { shopMoney { amount } }
          discountAllocations { allocatedAmountSet { shopMoney { amount } } }
        }
        """;

    /// <summary>The rest of an order's line items, when it has more than one page holds.</summary>
    public const string OrderLineItems = """
        query OrderLineItems($id: ID!, $after: String) {
          order(id: $id) {
            lineItems(first: 100, after: $after) {
              pageInfo { hasNextPage endCursor }
              nodes {
                id title quantity isGiftCard
                product { id }
                variant { id }
                originalUnitPriceSet { shopMoney { amount } }
                discountAllocations { allocatedAmountSet { shopMoney { amount } } }
              }
            }
          }
        }
        """;

    public const string AbandonedCheckouts = """
        query AbandonedCheckouts($first: Int!, $after: String, $query: String) {
          abandonedCheckouts(first: $first, after: $after, query: $query, sortKey: ID) {
            pageInfo { hasNextPage endCursor }
            nodes {
              id createdAt updatedAt completedAt
              customer { id }
              totalPriceSet { shopMoney { amount } }
            }
          }
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
