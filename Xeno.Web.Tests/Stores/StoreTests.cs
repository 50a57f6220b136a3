using System.Net;
using Alba;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xeno.Web.Features.Stores;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Stores;

[Collection(XenoCollection.Name)]
public sealed class StoreTests(XenoFixture fixture)
{
    private IAlbaHost Host => fixture.Host;

    [Fact]
    public async Task connecting_a_store_reads_the_shop_from_shopify_and_lists_it()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop("Berlin Boots", "EUR", "Europe/Berlin");

        var store = await fixture.ConnectStoreAsync(token, domain.ToUpperInvariant(), shopToken);
        Assert.Equal(domain, store.ShopDomain);
        Assert.Equal("Berlin Boots", store.Name);
        Assert.Equal("EUR", store.Currency);
        Assert.Equal("Europe/Berlin", store.Timezone);
        Assert.Equal("active", store.Status);

        var list = await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken(token); });
        var items = (await list.ReadAsJsonAsync<StoreList>())!.Items;
        Assert.Equal([store.Id], items.Select(i => i.Id));

        var one = await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(token); });
        Assert.Equal(domain, (await one.ReadAsJsonAsync<StoreResponse>())!.ShopDomain);
    }

    [Theory]
    [InlineData("evil.example.com")]
    [InlineData("127.0.0.1")]
    [InlineData("shop.myshopify.com.evil.com")]
    [InlineData("shop.myshopify.com/../x")]
    [InlineData("")]
    public async Task a_domain_that_is_not_name_myshopify_com_answers_422(string domain)
    {
        var (_, token) = await fixture.RegisterAsync();
        await Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = domain, accessToken = "shpat_x" }).ToUrl("/api/v1/stores");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(422);
        });
    }

    [Fact]
    public async Task a_token_the_shop_refuses_answers_422_and_stores_nothing()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, _) = fixture.NewShop();
        await Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = domain, accessToken = "shpat_wrong" }).ToUrl("/api/v1/stores");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(422);
        });
        var list = await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken(token); });
        Assert.Empty((await list.ReadAsJsonAsync<StoreList>())!.Items);
    }

    [Fact]
    public async Task a_shop_connected_by_another_account_answers_409()
    {
        var (_, alice) = await fixture.RegisterAsync();
        var (_, bob) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        await fixture.ConnectStoreAsync(alice, domain, shopToken);
        await Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = domain, accessToken = shopToken }).ToUrl("/api/v1/stores");
            s.WithBearerToken(bob);
            s.StatusCodeShouldBe(409);
        });
    }

    [Fact]
    public async Task every_store_route_asked_with_another_tenants_store_id_answers_404()
    {
        var (_, alice) = await fixture.RegisterAsync();
        var (_, bob) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(alice, domain, shopToken);

        var storeRoutes = Host.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.Contains("{storeId}") == true)
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(method => (Method: method, Path: "/" + e.RoutePattern.RawText!.TrimStart('/').Replace("{storeId}", store.Id.ToString()))))
            .Where(r => r.Path.StartsWith("/api/"))
            .ToList();
        Assert.NotEmpty(storeRoutes);

        foreach (var (method, path) in storeRoutes)
        {
            await Host.Scenario(s =>
            {
                switch (method)
                {
                    case "GET": s.Get.Url(path); break;
                    case "DELETE": s.Delete.Url(path); break;
                    case "POST": s.Post.Json(new { }).ToUrl(path); break;
                    case "PUT": s.Put.Json(new { }).ToUrl(path); break;
                    default: throw new InvalidOperationException(method);
                }
                s.WithBearerToken(bob);
                s.StatusCodeShouldBe(404);
            });
        }
        // The store is still there for its owner.
        await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(alice); s.StatusCodeShouldBeOk(); });
    }

    [Fact]
    public async Task store_pages_of_another_tenant_answer_404()
    {
        var (_, alice) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(alice, domain, shopToken);

        var bob = new BrowserSession(fixture.CreateClient());
        await bob.PostFormAsync("/register", "/register", new Dictionary<string, string> { ["email"] = XenoFixture.UniqueEmail(), ["password"] = "bob's password" });
        foreach (var path in new[] { $"/stores/{store.Id}", $"/stores/{store.Id}/settings" })
        {
            var (response, html) = await bob.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain(domain, html);
        }
        var (delete, _) = await bob.PostFormAsync($"/stores/{store.Id}/delete", "/stores", new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(alice); s.StatusCodeShouldBeOk(); });
    }

    [Fact]
    public async Task the_access_token_is_encrypted_at_rest_and_never_returned()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);

        var one = await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(token); });
        Assert.DoesNotContain(shopToken, await one.ReadAsTextAsync());

        await using var conn = new NpgsqlConnection(fixture.OwnerConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false); SELECT encrypted_access_token FROM store_credentials", conn);
        cmd.Parameters.AddWithValue("t", store.Id.ToString());
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.NextResultAsync();
        Assert.True(await reader.ReadAsync());
        var stored = reader.GetString(0);
        Assert.DoesNotContain(shopToken, stored);
        Assert.DoesNotContain(shopToken["shpat_".Length..], stored);
    }

    [Fact]
    public async Task deleting_a_store_deletes_it_and_its_data()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);

        await Host.Scenario(s => { s.Delete.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(token); s.StatusCodeShouldBe(204); });
        await Host.Scenario(s => { s.Get.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(token); s.StatusCodeShouldBe(404); });

        await using var conn = new NpgsqlConnection(fixture.OwnerConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false); SELECT count(*) FROM store_credentials", conn);
        cmd.Parameters.AddWithValue("t", store.Id.ToString());
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        Assert.Equal(0L, reader.GetInt64(0));

        // The shop can be connected again afterwards.
        await fixture.ConnectStoreAsync(token, domain, shopToken);
    }

    [Fact]
    public async Task a_person_connects_a_store_on_the_page_and_sees_it_listed()
    {
        var browser = new BrowserSession(fixture.CreateClient());
        await browser.PostFormAsync("/register", "/register", new Dictionary<string, string> { ["email"] = XenoFixture.UniqueEmail(), ["password"] = "page password" });
        var (domain, shopToken) = fixture.NewShop("Page Shop");

        var (bad, badHtml) = await browser.PostFormAsync("/stores", "/stores", new Dictionary<string, string> { ["shopDomain"] = domain, ["accessToken"] = "shpat_nope" });
        Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
        Assert.Contains("refused this access token", badHtml);

        var (connected, _) = await browser.PostFormAsync("/stores", "/stores", new Dictionary<string, string> { ["shopDomain"] = domain, ["accessToken"] = shopToken });
        Assert.Equal(HttpStatusCode.Redirect, connected.StatusCode);
        var (storePage, storeHtml) = await browser.GetAsync(connected.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, storePage.StatusCode);
        Assert.Contains("Page Shop", storeHtml);

        var (_, listHtml) = await browser.GetAsync("/stores");
        Assert.Contains("Page Shop", listHtml);
        Assert.Contains(domain, listHtml);
        Assert.DoesNotContain(shopToken, listHtml);
    }
}
