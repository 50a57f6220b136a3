using System.Net;
using System.Net.Http.Json;
using Alba;
using Xeno.Web.Features.Stores;
using Xeno.Web.Features.Team;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Team;

/// <summary>A store's owners share it with other accounts, as viewers or owners, and take it back.</summary>
[Collection(XenoCollection.Name)]
public sealed class TeamTests(XenoFixture fixture)
{
    private IAlbaHost Host => fixture.Host;

    private async Task<(StoreResponse Store, string OwnerEmail, string OwnerToken, string Shop, string ShopToken)> OwnedStoreAsync()
    {
        var (email, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop("Team Shop");
        return (await fixture.ConnectStoreAsync(token, domain, shopToken), email, token, domain, shopToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string token, object? body = null)
    {
        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new("Bearer", token);
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private async Task<List<ListMembers.Member>> MembersAsync(Guid storeId, string token)
    {
        var response = await SendAsync(HttpMethod.Get, $"/api/v1/stores/{storeId}/members", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ListMembers.Response>())!.Members.ToList();
    }

    [Fact]
    public async Task a_viewer_reads_the_store_but_cannot_delete_reconnect_manage_or_open_its_settings()
    {
        var (store, ownerEmail, ownerToken, shop, shopToken) = await OwnedStoreAsync();
        var (viewerEmail, viewerToken) = await fixture.RegisterAsync();

        var added = await SendAsync(HttpMethod.Post, $"/api/v1/stores/{store.Id}/members", ownerToken, new { email = viewerEmail.ToUpperInvariant(), role = "viewer" });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);

        // Reads: the list, the store, its metrics, its team, its dashboard.
        var list = await SendAsync(HttpMethod.Get, "/api/v1/stores", viewerToken);
        Assert.Contains((await list.Content.ReadFromJsonAsync<StoreList>())!.Items, s => s.Id == store.Id);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/api/v1/stores/{store.Id}/metrics/summary", viewerToken)).StatusCode);
        var members = await MembersAsync(store.Id, viewerToken);
        Assert.Equal([(ownerEmail, "owner"), (viewerEmail, "viewer")], members.Select(m => (m.Email, m.Role)));
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(viewerToken);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/stores/{store.Id}")).Response.StatusCode);

        // Owner-only: deletion, the team, the settings, the connection.
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Delete, $"/api/v1/stores/{store.Id}", viewerToken)).StatusCode);
        var (strangerEmail, _) = await fixture.RegisterAsync();
        Assert.Equal(HttpStatusCode.Forbidden,
            (await SendAsync(HttpMethod.Post, $"/api/v1/stores/{store.Id}/members", viewerToken, new { email = strangerEmail, role = "owner" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await SendAsync(HttpMethod.Post, $"/api/v1/stores/{store.Id}/members", viewerToken, new { email = viewerEmail, role = "owner" })).StatusCode);
        var ownerId = members.Single(m => m.Role == "owner").UserId;
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Delete, $"/api/v1/stores/{store.Id}/members/{ownerId}", viewerToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync($"/stores/{store.Id}/settings")).Response.StatusCode);
        var reconnect = await SendAsync(HttpMethod.Post, "/api/v1/stores", viewerToken, new { shopDomain = shop, accessToken = shopToken });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reconnect.StatusCode);

        // Nothing changed: the store is there for its owner, with the same team.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/api/v1/stores/{store.Id}", ownerToken)).StatusCode);
        Assert.Equal([(ownerEmail, "owner"), (viewerEmail, "viewer")], (await MembersAsync(store.Id, ownerToken)).Select(m => (m.Email, m.Role)));
    }

    [Fact]
    public async Task a_removed_member_loses_the_store_at_its_next_request()
    {
        var (store, _, ownerToken, _, _) = await OwnedStoreAsync();
        var (memberEmail, memberToken) = await fixture.RegisterAsync();
        var added = await SendAsync(HttpMethod.Post, $"/api/v1/stores/{store.Id}/members", ownerToken, new { email = memberEmail, role = "owner" });
        var memberId = (await added.Content.ReadFromJsonAsync<ListMembers.Member>())!.UserId;
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/api/v1/stores/{store.Id}/metrics/summary", memberToken)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/api/v1/stores/{store.Id}/members/{memberId}", ownerToken)).StatusCode);

        // The same token, still valid for its account, no longer opens anything of the store.
        foreach (var url in new[] { $"/api/v1/stores/{store.Id}", $"/api/v1/stores/{store.Id}/metrics/summary", $"/api/v1/stores/{store.Id}/members", $"/api/v1/stores/{store.Id}/sync" })
            Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, url, memberToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, $"/api/v1/stores/{store.Id}", memberToken)).StatusCode);
        var list = await SendAsync(HttpMethod.Get, "/api/v1/stores", memberToken);
        Assert.DoesNotContain((await list.Content.ReadFromJsonAsync<StoreList>())!.Items, s => s.Id == store.Id);
        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(memberToken);
        foreach (var page in new[] { $"/stores/{store.Id}", $"/stores/{store.Id}/team", $"/stores/{store.Id}/settings" })
            Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync(page)).Response.StatusCode);
    }

    [Fact]
    public async Task a_store_always_keeps_an_owner()
    {
        var (store, ownerEmail, ownerToken, _, _) = await OwnedStoreAsync();
        var ownerId = (await MembersAsync(store.Id, ownerToken)).Single().UserId;

        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(HttpMethod.Delete, $"/api/v1/stores/{store.Id}/members/{ownerId}", ownerToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict,
            (await SendAsync(HttpMethod.Post, $"/api/v1/stores/{store.Id}/members", ownerToken, new { email = ownerEmail, role = "viewer" })).StatusCode);
        Assert.Equal([(ownerEmail, "owner")], (await MembersAsync(store.Id, ownerToken)).Select(m => (m.Email, m.Role)));

        // With a second owner, the first may step down to viewer, then leave.
        var (secondEmail, secondToken) = await fixture.RegisterAsync();
        Assert.Equal(HttpStatusCode.Created,
            (await SendAsync(HttpMethod.Post, $"/api/v1/stores/{store.Id}/members", ownerToken, new { email = secondEmail, role = "owner" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await SendAsync(HttpMethod.Post, $"/api/v1/stores/{store.Id}/members", ownerToken, new { email = ownerEmail, role = "viewer" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/api/v1/stores/{store.Id}/members/{ownerId}", ownerToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/api/v1/stores/{store.Id}", ownerToken)).StatusCode);
        Assert.Equal([(secondEmail, "owner")], (await MembersAsync(store.Id, secondToken)).Select(m => (m.Email, m.Role)));
    }

    [Theory]
    [InlineData("nobody-here@example.com", "viewer", HttpStatusCode.NotFound)]
    [InlineData("not an email", "viewer", HttpStatusCode.BadRequest)]
    [InlineData("", "viewer", HttpStatusCode.BadRequest)]
    [InlineData("{existing}", "admin", HttpStatusCode.BadRequest)]
    public async Task adding_someone_who_cannot_be_added_says_why_and_adds_nobody(string email, string role, HttpStatusCode expected)
    {
        var (store, _, ownerToken, _, _) = await OwnedStoreAsync();
        var (existing, _) = await fixture.RegisterAsync();
        var response = await SendAsync(HttpMethod.Post, $"/api/v1/stores/{store.Id}/members", ownerToken,
            new { email = email.Replace("{existing}", existing), role });
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Single(await MembersAsync(store.Id, ownerToken));
    }

    [Fact]
    public async Task owners_manage_the_team_from_its_page_and_a_viewer_can_leave()
    {
        var (store, _, ownerToken, _, _) = await OwnedStoreAsync();
        var (viewerEmail, viewerToken) = await fixture.RegisterAsync();
        var owner = new BrowserSession(fixture.CreateClient());
        owner.UseToken(ownerToken);
        var teamPage = $"/stores/{store.Id}/team";

        // Without the page's antiforgery token, nothing happens.
        var forged = await owner.PostRawAsync(teamPage, new Dictionary<string, string> { ["email"] = viewerEmail, ["role"] = "viewer" });
        Assert.Equal(HttpStatusCode.BadRequest, forged.Response.StatusCode);
        Assert.Single(await MembersAsync(store.Id, ownerToken));

        var unknown = await owner.PostFormAsync(teamPage, teamPage, new Dictionary<string, string> { ["email"] = "no-such-account@example.com", ["role"] = "viewer" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.Response.StatusCode);
        Assert.Contains("Ask them to register first", unknown.Html);
        Assert.Contains("value=\"no-such-account@example.com\"", unknown.Html); // the input is kept

        var (response, html) = await owner.PostFormAsync(teamPage, teamPage, new Dictionary<string, string> { ["email"] = viewerEmail, ["role"] = "viewer" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"{viewerEmail} can now open this store as a viewer.", html);

        // The viewer sees the team, without the form to add anyone, and leaves.
        var viewer = new BrowserSession(fixture.CreateClient());
        viewer.UseToken(viewerToken);
        var (seen, viewerHtml) = await viewer.GetAsync(teamPage);
        Assert.Equal(HttpStatusCode.OK, seen.StatusCode);
        Assert.Contains(viewerEmail + " (you)", viewerHtml);
        Assert.DoesNotContain("id=\"add-member\"", viewerHtml);
        var viewerId = (await MembersAsync(store.Id, ownerToken)).Single(m => m.Email == viewerEmail).UserId;
        var left = await viewer.PostFormAsync($"/stores/{store.Id}/team/{viewerId}/remove", teamPage, new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.Redirect, left.Response.StatusCode);
        Assert.Equal("/stores", left.Response.Headers.Location?.OriginalString);
        Assert.Single(await MembersAsync(store.Id, ownerToken));
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync(teamPage)).Response.StatusCode);
    }
}
