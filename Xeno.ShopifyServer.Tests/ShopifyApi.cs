using System.Net.Http.Json;
using System.Text.Json;

namespace Xeno.ShopifyServer.Tests;

/// <summary>A bare client for the fake server, as Xeno's client would talk to Shopify.</summary>
internal sealed class ShopifyApi(ShopifyTestServer server, string shopDomain, string token) : IDisposable
{
    private readonly HttpClient _http = new();

    public async Task<(int Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(string query, object? variables = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.GraphQLUrl(shopDomain))
        {
            Content = JsonContent.Create(new { query, variables }),
        };
        request.Headers.Add("X-Shopify-Access-Token", token);
        var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return ((int)response.StatusCode, json.RootElement.Clone(), response);
    }

    public async Task<JsonElement> DataAsync(string query, object? variables = null)
    {
        var (status, body, _) = await PostAsync(query, variables);
        Assert.Equal(200, status);
        Assert.False(body.TryGetProperty("errors", out var errors), errors.ToString());
        return body.GetProperty("data");
    }

    public void Dispose() => _http.Dispose();
}
