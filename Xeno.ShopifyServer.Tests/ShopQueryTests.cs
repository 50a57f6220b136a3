namespace Xeno.ShopifyServer.Tests;

public class ShopQueryTests
{
    [Fact]
    public async Task shop_query_answers_per_shop_and_token()
    {
        var state = new ShopifyServerState();
        state.AddShop("acme.myshopify.com", "Acme", "USD", "America/New_York", "shpat_acme");
        state.AddShop("beta.myshopify.com", "Beta", "EUR", "Europe/Paris", "shpat_beta1");
        state.AddToken("beta.myshopify.com", "shpat_beta2");
        await using var server = await ShopifyTestServer.StartAsync(state);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", server.Origin);
        Assert.Equal(server.Origin + "/{shop}", server.ApiBaseUrl);

        const string query = "{ shop { name currencyCode ianaTimezone myshopifyDomain id } }";
        using var acme = new ShopifyApi(server, "acme.myshopify.com", "shpat_acme");
        var shop = (await acme.DataAsync(query)).GetProperty("shop");
        Assert.Equal("Acme", shop.GetProperty("name").GetString());
        Assert.Equal("USD", shop.GetProperty("currencyCode").GetString());
        Assert.Equal("America/New_York", shop.GetProperty("ianaTimezone").GetString());
        Assert.Equal("acme.myshopify.com", shop.GetProperty("myshopifyDomain").GetString());
        Assert.StartsWith("gid://shopify/Shop/", shop.GetProperty("id").GetString());

        foreach (var token in new[] { "shpat_beta1", "shpat_beta2" })
        {
            using var beta = new ShopifyApi(server, "beta.myshopify.com", token);
            Assert.Equal("EUR", (await beta.DataAsync(query)).GetProperty("shop").GetProperty("currencyCode").GetString());
        }

        using var wrong = new ShopifyApi(server, "beta.myshopify.com", "shpat_acme");
        var (status, body, _) = await wrong.PostAsync(query);
        Assert.Equal(401, status);
        Assert.Equal("[API] Invalid API key or access token (unrecognized login or wrong password)", body.GetProperty("errors").GetString());

        Assert.True(state.RevokeToken("beta.myshopify.com", "shpat_beta1"));
        using var revoked = new ShopifyApi(server, "beta.myshopify.com", "shpat_beta1");
        Assert.Equal(401, (await revoked.PostAsync(query)).Status);

        using var unknown = new ShopifyApi(server, "nobody.myshopify.com", "shpat_acme");
        Assert.Equal(404, (await unknown.PostAsync(query)).Status);
    }

    [Fact]
    public async Task invalid_query_answers_200_with_shopify_errors()
    {
        var state = new ShopifyServerState();
        state.AddShop("acme.myshopify.com", "Acme", "USD", "America/New_York", "t");
        await using var server = await ShopifyTestServer.StartAsync(state);
        using var api = new ShopifyApi(server, "acme.myshopify.com", "t");
        var (status, body, _) = await api.PostAsync("{ shop { name bogus } }");
        Assert.Equal(200, status);
        Assert.False(body.TryGetProperty("data", out _));
        var error = body.GetProperty("errors")[0];
        Assert.Equal("Field 'bogus' doesn't exist on type 'Shop'", error.GetProperty("message").GetString());
        Assert.Equal("undefinedField", error.GetProperty("extensions").GetProperty("code").GetString());
        Assert.True(error.GetProperty("locations")[0].GetProperty("line").GetInt32() >= 1);
    }
}
