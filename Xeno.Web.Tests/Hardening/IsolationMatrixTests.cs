using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hangfire;
using Hangfire.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Features.Dashboard;
using Xeno.Web.Features.Stores;
using Xeno.Web.Features.Sync;
using Xeno.Web.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Xeno.Web.Tests.Hardening;

/// <summary>
/// Issue 10's isolation matrix. Two tenants with real data. Every route the app maps is read from ASP.NET Core's
/// endpoint data source, so a route added tomorrow is tried without anyone listing it: called as A with B's ids it
/// must answer 404 or 401, show nothing of B's and change nothing of B's. Then the second wall, table by table:
/// row-level security on every table with a tenant_id, tried as the role requests and jobs run under.
/// </summary>
[Collection(XenoCollection.Name)]
public sealed partial class IsolationMatrixTests(XenoFixture fixture, ITestOutputHelper output)
{
    // ---- What the matrix knows about routes ------------------------------------------------------------------------

    /// <summary>Routes anyone may call: they take no session, so there is no A to try them as.</summary>
    private static readonly Dictionary<string, string> Anonymous = new()
    {
        ["GET /"] = "a redirect to /stores, which asks for the session",
        ["GET /healthz"] = "the process's health: nothing of any store",
        ["GET /readyz"] = "the database's and migrations' readiness: nothing of any store",
        ["GET /openapi/{documentName}.json"] = "the JSON API's description, the same for everyone",
        ["GET /login"] = "signing in comes before there is a caller",
        ["POST /login"] = "signing in comes before there is a caller (throttled, one message for any failure: ApiAuthTests)",
        ["GET /register"] = "signing up comes before there is a caller",
        ["POST /register"] = "signing up comes before there is a caller",
        ["POST /api/v1/auth/login"] = "signing in comes before there is a caller (throttled, one message for any failure: ApiAuthTests)",
        ["POST /api/v1/auth/register"] = "signing up comes before there is a caller",
        ["POST /webhooks/shopify"] = "Shopify's HMAC is the credential and the signed shop domain picks the tenant, never a caller's id " +
            "(WebhookTests: a forged or foreign-signed delivery answers 401 and changes nothing)",
        ["GET /shopify"] = "Shopify's signed App URL: 400 unless its HMAC is right, and then the install asks for the session (InstallTests)",
    };

    /// <summary>Routes behind a session that name nothing of anyone's: they act on the caller's own account (the user comes
    /// from the token), or hand the decision to Shopify. Not called as A, since there is no id of B's to give them; still
    /// called without credentials.</summary>
    private static readonly Dictionary<string, string> CallersOwn = new()
    {
        ["POST /api/v1/auth/logout"] = "ends the caller's own sessions; calling it as A would only end A's",
        ["POST /logout"] = "ends the caller's own sessions; calling it as A would only end A's",
        ["POST /api/v1/auth/password"] = "changes the caller's own password, which it must give",
        ["POST /account/password"] = "changes the caller's own password, which it must give",
        ["GET /stores/install"] = "sends the caller to Shopify's consent for the shop it names: Shopify decides who may install a shop, " +
            "and a shop another account has ends in the callback's 409 page (InstallTests)",
        ["GET /auth/shopify/callback"] = "Shopify's signed answer to the caller's own install, its state bound to one browser and one account " +
            "(InstallTests: another account's state, another browser, a replay or another shop are refused and store nothing)",
        ["GET /hangfire/{**path}"] = "operators only: a merchant gets 403 and sees no job (OperatorDashboardTests)",
    };

    /// <summary>Route parameters that name nothing of a tenant's, with every value the app serves.</summary>
    private static readonly Dictionary<string, string[]> SharedParameters = new() { ["name"] = ShowDashboard.Tiles };

    private sealed record Route(string Method, string Pattern, RouteEndpoint Endpoint)
    {
        public string Key => $"{Method} {Pattern}";
        public bool IsApi => Pattern.StartsWith("/api/", StringComparison.Ordinal);
        public bool IsRead => Method is "GET" or "HEAD";
        public IReadOnlyList<string> Parameters => Endpoint.RoutePattern.Parameters.Select(p => p.Name).ToList();
        public bool NeedsSession => Endpoint.Metadata.GetMetadata<IAuthorizeData>() is not null && Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null;

        /// <summary>The URL with each parameter replaced by its value.</summary>
        public string Url(IReadOnlyDictionary<string, string> values) =>
            RouteParameter().Replace(Pattern, m => Uri.EscapeDataString(values[m.Groups[1].Value]));
    }

    [GeneratedRegex(@"\{\**([A-Za-z]+)(?::[^}]*)?\??\}")]
    private static partial Regex RouteParameter();

    /// <summary>Every route of the app, one per HTTP method (a route that takes any method counts as GET).</summary>
    private List<Route> Routes() => fixture.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints
        .OfType<RouteEndpoint>()
        .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } methods ? methods : ["GET"])
            .Select(method => new Route(method, "/" + (e.RoutePattern.RawText ?? "").Trim('/'), e)))
        .DistinctBy(r => r.Key)
        .OrderBy(r => r.Pattern, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)
        .ToList();

    [Fact]
    public void every_route_is_in_the_matrix_or_exempt_for_a_stated_reason()
    {
        var routes = Routes();
        var keys = routes.Select(r => r.Key).ToHashSet();
        var problems = new List<string>();
        foreach (var route in routes)
        {
            if (Anonymous.ContainsKey(route.Key)) continue;
            if (!route.NeedsSession)
                problems.Add($"{route.Key} takes no session: require one, or list it in {nameof(Anonymous)} with the reason it is safe for anyone");
            if (CallersOwn.ContainsKey(route.Key)) continue;
            if (route.Parameters.FirstOrDefault(p => !Tenant.NamesSomething(p) && !SharedParameters.ContainsKey(p)) is { } unknown)
                problems.Add($"{route.Key} takes {{{unknown}}}, which the matrix cannot fill: give {nameof(Tenant)} its value, or {nameof(SharedParameters)} its values");
            if (route.Parameters.Count == 0 && !route.IsRead && !ParameterlessWrites.ContainsKey(route.Key))
                problems.Add($"{route.Key} writes and takes no id: say in {nameof(ParameterlessWrites)} what A could try with B's data there");
        }
        // A stale exemption would hide the day its route comes back in another shape.
        foreach (var listed in Anonymous.Keys.Concat(CallersOwn.Keys).Concat(ParameterlessWrites.Keys).Where(k => !keys.Contains(k)))
            problems.Add($"{listed} is listed but the app maps no such route");

        output.WriteLine($"{routes.Count} routes: {routes.Count(r => r.Parameters.Count > 0 && Covered(r))} take ids and are in the matrix, " +
            $"{routes.Count(r => r.Parameters.Count == 0 && Covered(r))} take none and are called as A, " +
            $"{Anonymous.Count} anonymous by design, {CallersOwn.Count} on the caller's own account only");
        foreach (var route in routes) output.WriteLine($"  {route.Key}{Exemption(route)}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static bool Covered(Route route) => !Anonymous.ContainsKey(route.Key) && !CallersOwn.ContainsKey(route.Key);

    private static string Exemption(Route route) =>
        Anonymous.TryGetValue(route.Key, out var why) ? "  (anonymous: " + why + ")"
        : CallersOwn.TryGetValue(route.Key, out why) ? "  (caller's own: " + why + ")"
        : "";

    // ---- The tenants ----------------------------------------------------------------------------------------------

    /// <summary>An account with a connected, synced store, a customer's data request in it, and a browser signed in.</summary>
    private sealed record Tenant(string Email, string Token, BrowserSession Browser, StoreResponse Store, Shop Shop, string ShopToken, Guid DataRequestId,
        Guid UserId)
    {
        /// <summary>Route parameters that name something of a tenant's, and this tenant's value for each.</summary>
        public string? IdFor(string parameter) => parameter switch
        {
            "storeId" => Store.Id.ToString(),
            "requestId" => DataRequestId.ToString(),
            "userId" => UserId.ToString(),
            _ => null,
        };

        public static bool NamesSomething(string parameter) => parameter is "storeId" or "requestId" or "userId";

        /// <summary>What would show that a response carries this tenant's data.</summary>
        public IEnumerable<string> Identifying() =>
            new[] { Store.Id.ToString(), DataRequestId.ToString(), Store.ShopDomain, Store.Name, Email }
                .Concat(Shop.Customers.Where(c => c.Email is not null).Select(c => c.Email!))
                .Concat(Shop.Customers.Where(c => c.FirstName is not null && c.LastName is not null).Select(c => $"{c.FirstName} {c.LastName}"));
    }

    private async Task<(Tenant A, Tenant B)> TwoTenantsAsync()
    {
        var zone = ZoneFarFromMidnight();
        var a = ConnectLaterAsync(seed: 101, zone);
        var b = ConnectLaterAsync(seed: 202, zone);
        return (await a, await b);
    }

    private async Task<Tenant> ConnectLaterAsync(int seed, string zone)
    {
        var domain = $"iso-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(seed, 60, new ShopGeneratorOptions
        {
            Domain = domain, Name = $"Tenant {seed} {Guid.NewGuid():N}"[..24], IanaTimezone = zone,
        });
        var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, shopToken);
        shop.RateLimit.Configure(1_000_000, 1_000_000);

        var (email, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        var sync = await fixture.WaitForSyncAsync(token, store.Id);
        Assert.True(sync.LastRun?.Status == "succeeded", sync.LastRun?.Error);

        var customer = shop.Customers.First(c => c.Id > 0 && c.Email is not null && c.Orders.Any());
        var requestId = await DataRequestAsync(store, customer);

        var browser = new BrowserSession(fixture.CreateClient());
        browser.UseToken(token);
        var userId = (Guid)(await fixture.ScalarAsync(store.Id, $"SELECT user_id FROM store_members WHERE store_id = '{store.Id}'"))!;
        return new Tenant(email, token, browser, store, shop, shopToken, requestId, userId);
    }

    /// <summary>A customer's data request, delivered as Shopify sends it, and the id the settings page links it by.</summary>
    private async Task<Guid> DataRequestAsync(StoreResponse store, Customer customer)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            shop_domain = store.ShopDomain,
            customer = new { id = customer.Id, email = customer.Email, phone = customer.Phone },
            orders_requested = customer.Orders.Select(o => o.Id).ToArray(),
            data_request = new { id = 9999 },
        });
        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Shopify-Topic", "customers/data_request");
        request.Headers.Add("X-Shopify-Shop-Domain", store.ShopDomain);
        request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Event-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Hmac-Sha256",
            Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(XenoFixture.WebhookSecret), body)));
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);

        for (var i = 0; i < 600; i++)
        {
            if (await fixture.ScalarAsync(store.Id, "SELECT id FROM customer_data_requests") is Guid id
                && await fixture.ScalarAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") is 0L)
                return id;
            await Task.Delay(50);
        }
        throw new TimeoutException("The data request was not processed.");
    }

    /// <summary>At each store's local midnight a job moves its ranked windows on, which would change B's rows while the
    /// matrix runs with nobody asking: both shops live where midnight is hours away.</summary>
    private static string ZoneFarFromMidnight() =>
        new[] { "Europe/Berlin", "America/New_York", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney" }
            .OrderBy(zone => Math.Abs(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById(zone)).TimeOfDay.TotalHours - 12))
            .First();

    /// <summary>The scheduled incremental sync of every store would add a run to B's history that no request made:
    /// when it is due within minutes, it goes by before B is compared.</summary>
    private async Task KeepClearOfTheScheduledSyncAsync(Tenant b)
    {
        using var connection = fixture.Host.Services.GetRequiredService<JobStorage>().GetConnection();
        var next = connection.GetRecurringJobs([ScheduleIncrementalSyncs.RecurringJobId]).SingleOrDefault()?.NextExecution;
        if (next is not { } due || due - DateTime.UtcNow > TimeSpan.FromMinutes(3)) return;
        output.WriteLine($"The scheduled sync is due at {due:O}: waiting for it to pass.");
        await Task.Delay(due - DateTime.UtcNow + TimeSpan.FromMinutes(1));
        await fixture.WaitForSyncAsync(b.Token, b.Store.Id);
    }

    // ---- The matrix -----------------------------------------------------------------------------------------------

    /// <summary>Requests the <see cref="ParameterlessWrites"/> made, for the count the matrix reports.</summary>
    private int _bodyAttempts;

    /// <summary>Writes that take no id in the route but B's data in the body: what A tries with it, and what must come back.
    /// Each returns its failures.</summary>
    private Dictionary<string, Func<Tenant, Tenant, Task<List<string>>>> ParameterlessWrites => new()
    {
        // Connecting B's shop: a guessed token is refused before Xeno says whether anyone has the shop (422, and the
        // page shows the form again); B's own token, stolen, meets B's store and answers 409 (API.md), never B's store.
        ["POST /api/v1/stores"] = async (a, b) =>
        {
            var failures = new List<string>();
            foreach (var (token, expected) in new[] { ("shpat_guessed", HttpStatusCode.UnprocessableEntity), (b.ShopToken, HttpStatusCode.Conflict) })
            {
                _bodyAttempts++;
                using var client = fixture.CreateClient();
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/stores")
                {
                    Content = JsonContent(new { shopDomain = b.Store.ShopDomain, accessToken = token }),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", a.Token);
                var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != expected) failures.Add($"POST /api/v1/stores with B's shop ({token}): {(int)response.StatusCode}, expected {(int)expected}");
                // The domain is what A typed; anything else of B's would be news to A.
                failures.AddRange(Leaks("POST /api/v1/stores with B's shop", body, b, a, except: b.Store.ShopDomain));
            }
            return failures;
        },
        ["POST /stores"] = async (a, b) =>
        {
            var failures = new List<string>();
            foreach (var (token, message) in new[] { ("shpat_guessed", "refused"), (b.ShopToken, ConnectStore.TakenMessage) })
            {
                _bodyAttempts++;
                var (response, html) = await a.Browser.PostFormAsync("/stores", "/stores",
                    new Dictionary<string, string> { ["shopDomain"] = b.Store.ShopDomain, ["accessToken"] = token });
                // htmx swaps no 4xx, so a refused form comes back 200 with its message.
                if (response.StatusCode != HttpStatusCode.OK || !Readable(html).Contains(message, StringComparison.Ordinal))
                    failures.Add($"POST /stores with B's shop ({token}): {(int)response.StatusCode} without \"{message}\"");
                failures.AddRange(Leaks("POST /stores with B's shop", html, b, a, except: b.Store.ShopDomain));
            }
            return failures;
        },
    };

    private static StringContent JsonContent(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    private sealed record Call(string Route, string Method, string Url, bool Htmx)
    {
        public override string ToString() => $"{Method} {Url}{(Htmx ? " (htmx)" : "")}";
    }

    /// <summary>The calls a route gets: for every value of its shared parameters, B's ids throughout, and, where a route
    /// takes several ids, each of B's beside A's others (A's store with B's data request is the classic slip);
    /// with A's ids throughout as the control. Pages are asked as a visit and as htmx.</summary>
    private static IEnumerable<(Call Call, bool Control)> CallsOf(Route route, Tenant a, Tenant b)
    {
        var ids = route.Parameters.Where(Tenant.NamesSomething).ToList();
        var shared = route.Parameters.Where(p => !Tenant.NamesSomething(p)).ToList();
        var combinations = shared.Aggregate(
            (IEnumerable<Dictionary<string, string>>)[new Dictionary<string, string>()],
            (sets, p) => sets.SelectMany(set => SharedParameters[p].Select(v => new Dictionary<string, string>(set) { [p] = v })));
        foreach (var values in combinations)
        {
            var variants = new List<(Tenant[] Owners, bool Control)> { (ids.Select(_ => b).ToArray(), false) };
            if (ids.Count > 1)
                variants.AddRange(ids.Select((_, i) => (ids.Select((_, j) => i == j ? b : a).ToArray(), false)));
            variants.Add((ids.Select(_ => a).ToArray(), true));
            foreach (var (owners, control) in variants)
            {
                var filled = new Dictionary<string, string>(values);
                for (var i = 0; i < ids.Count; i++) filled[ids[i]] = owners[i].IdFor(ids[i])!;
                var url = route.Url(filled);
                foreach (var htmx in route.IsApi || !route.IsRead ? [false] : new[] { false, true })
                    yield return (new Call(route.Key, route.Method, url, htmx), control);
            }
        }
    }

    /// <summary>B's owner gives <paramref name="member"/> a share of B's store as an owner, checks it works, and takes it back.</summary>
    private async Task B_AddsAndRemovesAsync(Tenant b, Tenant member)
    {
        var added = await SendAsync(new Call("POST members", "POST", $"/api/v1/stores/{b.Store.Id}/members", false), b,
            JsonContent(new { email = member.Email, role = "owner" }));
        Assert.Equal(HttpStatusCode.Created, added.Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(new Call("GET store", "GET", $"/api/v1/stores/{b.Store.Id}", false), member)).Response.StatusCode);
        var removed = await SendAsync(new Call("DELETE member", "DELETE", $"/api/v1/stores/{b.Store.Id}/members/{member.UserId}", false), b);
        Assert.Equal(HttpStatusCode.NoContent, removed.Response.StatusCode);
    }

    private async Task<(HttpResponseMessage Response, string Body)> SendAsync(Call call, Tenant? caller, HttpContent? body = null)
    {
        if (call.Url.StartsWith("/api/", StringComparison.Ordinal))
        {
            using var client = fixture.CreateClient();
            using var request = new HttpRequestMessage(new HttpMethod(call.Method), call.Url);
            if (caller is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
            // A body the endpoint accepts, so that binding cannot be what refuses it.
            if (call.Method is "POST" or "PUT" or "PATCH") request.Content = body ?? JsonContent(new { });
            var response = await client.SendAsync(request);
            return (response, await response.Content.ReadAsStringAsync());
        }
        var browser = caller?.Browser ?? new BrowserSession(fixture.CreateClient());
        return call.Method is "GET" or "HEAD"
            ? await browser.GetAsync(call.Url, call.Htmx)
            // With the antiforgery token of a page A may see: a refusal must come from the tenant check, not from antiforgery.
            : await browser.SendFormAsync(new HttpMethod(call.Method), call.Url, "/stores", new Dictionary<string, string>(), call.Htmx);
    }

    [Fact]
    public async Task every_route_called_as_a_with_bs_ids_answers_404_or_401_and_shows_and_changes_nothing_of_b()
    {
        var (a, b) = await TwoTenantsAsync();
        var routes = Routes().Where(Covered).ToList();
        var failures = new List<string>();
        int attempts = 0, controls = 0, reads = 0;

        // A was an owner of B's store, and was removed: a former member must be as much a stranger as one never let in.
        await B_AddsAndRemovesAsync(b, a);

        await KeepClearOfTheScheduledSyncAsync(b);
        var before = await SnapshotAsync(b);
        var shopifyBefore = b.Shop.Requests.Total;

        // Reads first: a write that got through (B's store deleted) would otherwise leave the reads after it nothing to leak.
        foreach (var route in routes.Where(r => r.Parameters.Count > 0).OrderBy(r => r.IsRead ? 0 : 1))
        {
            // Reported here too, so that one route the matrix cannot fill does not stop it from trying the others.
            if (route.Parameters.FirstOrDefault(p => !Tenant.NamesSomething(p) && !SharedParameters.ContainsKey(p)) is { } unknown)
            {
                failures.Add($"{route.Key} takes {{{unknown}}}, which the matrix cannot fill, so it was not tried");
                continue;
            }
            foreach (var (call, control) in CallsOf(route, a, b))
            {
                if (control)
                {
                    // A's own ids must work, or a 404 above proves nothing: a write gets a store of A's own to spend.
                    controls++;
                    var own = route.IsRead ? call : call with { Url = call.Url.Replace(a.Store.Id.ToString(), (await SpareStoreOfAsync(a)).ToString()) };
                    var (ok, _) = await SendAsync(own, a);
                    // Past the access checks is what counts: the matrix's empty body may still be refused as invalid (400),
                    // or a store's last owner refused leave (409), by the handler itself.
                    if (ok.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden || (int)ok.StatusCode >= 500
                        || ok.Headers.Location?.OriginalString.StartsWith("/login") == true)
                        failures.Add($"{own} as A, on A's own: {(int)ok.StatusCode} (the matrix's request is wrong, so its 404s prove nothing)");
                    continue;
                }
                attempts++;
                var (response, body) = await SendAsync(call, a);
                if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.Unauthorized))
                    failures.Add($"{call} as A: {(int)response.StatusCode}, expected 404 or 401");
                failures.AddRange(Leaks($"{call} as A", body, b, a));
            }
        }

        // Routes that take no id answer for the caller alone: A's stores, A's account, never B's.
        foreach (var route in routes.Where(r => r.Parameters.Count == 0 && r.IsRead))
        {
            reads++;
            var call = new Call(route.Key, route.Method, route.Pattern, Htmx: false);
            var (response, body) = await SendAsync(call, a);
            if ((int)response.StatusCode >= 400) failures.Add($"{call} as A: {(int)response.StatusCode}");
            failures.AddRange(Leaks($"{call} as A", body, b, a));
            if (route.Key is "GET /stores" or "GET /api/v1/stores" && !body.Contains(a.Store.Id.ToString(), StringComparison.Ordinal))
                failures.Add($"{call} as A does not list A's own store");
        }
        if (b.Shop.Requests.Total != shopifyBefore)
            failures.Add($"{b.Shop.Requests.Total - shopifyBefore} requests reached B's shop while A called with B's ids");

        foreach (var attempt in ParameterlessWrites.Values) failures.AddRange(await attempt(a, b));
        attempts += _bodyAttempts;

        output.WriteLine($"{routes.Count} routes called as A: {attempts} attempts with B's ids or data, {reads} reads of A's own lists, " +
            $"{controls} controls with A's own ids");
        // Compared before the verdict, so that a refusal that still wrote something shows both.
        var after = await SnapshotAsync(b);
        failures.AddRange(before.Keys.Union(after.Keys).Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))
            .Select(k => $"B's {k} changed: {before.GetValueOrDefault(k)} -> {after.GetValueOrDefault(k)}"));
        output.WriteLine($"B's data compared before and after: {before.Count} fingerprints; {failures.Count} failures");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task every_route_behind_a_session_called_without_one_answers_401_or_sends_to_login()
    {
        var b = await ConnectLaterAsync(seed: 303, ZoneFarFromMidnight());
        var failures = new List<string>();
        var attempts = 0;
        foreach (var route in Routes().Where(r => r.NeedsSession))
        {
            // A parameter nobody filled (the coverage test names it) gets an id of no one's, so the route is still reached.
            var values = route.Parameters.ToDictionary(p => p, p => b.IdFor(p) ?? SharedParameters.GetValueOrDefault(p)?.First() ?? Guid.NewGuid().ToString());
            foreach (var htmx in route.IsApi || !route.IsRead ? [false] : new[] { false, true })
            {
                attempts++;
                var call = new Call(route.Key, route.Method, route.Url(values), htmx);
                var (response, body) = await SendAsync(call, caller: null);
                var toLogin = htmx
                    ? response.StatusCode == HttpStatusCode.OK && response.Headers.TryGetValues("HX-Redirect", out var hx) && hx.Single().StartsWith("/login")
                    : response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.OriginalString.StartsWith("/login") == true;
                if (route.IsApi ? response.StatusCode != HttpStatusCode.Unauthorized : !toLogin)
                    failures.Add($"{call} without credentials: {(int)response.StatusCode} {response.Headers.Location}, expected {(route.IsApi ? "401" : "a way to /login")}");
                failures.AddRange(Leaks($"{call} without credentials", body, b, null));
            }
        }
        output.WriteLine($"{attempts} calls without credentials");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>A store of A's, connected and synced, for a control that may change or delete it.</summary>
    private async Task<Guid> SpareStoreOfAsync(Tenant a)
    {
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(a.Token, domain, shopToken);
        await fixture.WaitForSyncAsync(a.Token, store.Id);
        return store.Id;
    }

    /// <summary>What of B's a response shows, decoded from HTML and JSON escapes first. Strings A has too (customer names
    /// are drawn from a short list) prove nothing and are left out.</summary>
    private static IEnumerable<string> Leaks(string what, string body, Tenant b, Tenant? a, string? except = null)
    {
        var readable = Readable(body);
        var ours = a?.Identifying().ToHashSet(StringComparer.OrdinalIgnoreCase) ?? [];
        return b.Identifying().Where(m => m != except && !ours.Contains(m)).Distinct()
            .Where(m => readable.Contains(m, StringComparison.OrdinalIgnoreCase))
            .Select(m => $"{what}: the response shows B's \"{m}\"");
    }

    private static string Readable(string body) =>
        WebUtility.HtmlDecode(Regex.Replace(body, @"\\u([0-9a-fA-F]{4})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 16)).ToString()));

    /// <summary>Everything of B's a request could change: its rows in every tenant table, its store, who may open it, its
    /// credentials and sync runs. Read as the owner (row-level security is forced on the owner too, so with B's tenant set).</summary>
    private async Task<SortedDictionary<string, string?>> SnapshotAsync(Tenant b)
    {
        var id = b.Store.Id;
        var snapshot = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        // Counts alone would miss an UPDATE of B's rows: each row's text goes into the fingerprint. The tenant is named in
        // the WHERE too, so that the fingerprint is B's alone even for a reader row-level security does not bind.
        foreach (var table in await TenantTablesAsync())
            snapshot[$"{table} rows"] = (string?)await fixture.ScalarAsync(id,
                $"SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM {table} t WHERE tenant_id = '{id}'");
        snapshot["store"] = (string?)await fixture.ScalarAsync(id,
            $"SELECT concat_ws(' | ', shop_domain, name, status, data_version, connection_error, last_synced_at) FROM stores WHERE id = '{id}'");
        snapshot["members"] = (string?)await fixture.ScalarAsync(id, $"SELECT string_agg(user_id::text || ' ' || role, ',' ORDER BY user_id) FROM store_members WHERE store_id = '{id}'");
        snapshot["credentials"] = (string?)await fixture.ScalarAsync(id, "SELECT concat_ws(' | ', method, md5(encrypted_access_token), updated_at) FROM store_credentials");
        snapshot["sync runs"] = (string?)await fixture.ScalarAsync(id, "SELECT string_agg(id::text || ' ' || status, ',' ORDER BY id) FROM sync_runs");
        return snapshot;
    }

    // ---- Row-level security, table by table -----------------------------------------------------------------------

    /// <summary>Tables without a tenant_id, each with what guards it instead. A table missing here fails the audit: a new
    /// table either carries tenant_id (and row-level security) or says here why it needs none.</summary>
    private static readonly Dictionary<string, string> TablesWithoutTenant = new()
    {
        ["stores"] = "the tenant directory itself: its id is the tenant id. It is read before a tenant is known (the access filter's " +
            "membership check, a webhook's shop lookup, the caller's list), so a policy on app.tenant_id cannot guard it; every read is " +
            "by membership or by the tenant already resolved, and the matrix above tries every route with B's store id",
        ["store_members"] = "who may open which store, read by the access filter to resolve the tenant (keyed by user, before a tenant " +
            "is set); no route lists another user's memberships, and the matrix checks A gains none on B's store",
        ["users"] = "accounts, above tenants (one account, several stores); holds no hash; the app role cannot create one (DatabaseRolesTests)",
        ["user_passwords"] = "password hashes: the app role has no grant at all, only the secrets role reads them (DatabaseRolesTests)",
        ["data_protection_keys"] = "the key ring: the app role has no grant, only the secrets role, and every key is encrypted under the KEK (DatabaseRolesTests)",
        ["app_secrets"] = "Xeno's own signing key: the app role has no grant (DatabaseRolesTests)",
        ["login_throttles"] = "failed-login counters per account and client: nothing of any store",
        ["oauth_states"] = "an install under way, before its store exists: hashes only, bound to one account and one browser (InstallTests)",
        ["webhook_pending"] = "which stores have webhook work waiting: read by a worker before it knows a tenant, a store id and a time " +
            "and nothing of a merchant's; the deliveries themselves are in webhook_deliveries, under row-level security",
        ["__EFMigrationsHistory"] = "the schema's version; the app role can only read it (DatabaseRolesTests)",
    };

    private async Task<NpgsqlConnection> OpenAsync(string connectionString, Guid? tenant = null)
    {
        var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", conn);
        set.Parameters.AddWithValue("t", tenant?.ToString() ?? "");
        await set.ExecuteNonQueryAsync();
        return conn;
    }

    private async Task<List<string>> TenantTablesAsync() => (await RelationsAsync()).Where(r => r.HasTenantId).Select(r => r.Name).ToList();

    private sealed record Relation(string Name, char Kind, bool HasTenantId, bool RlsEnabled, bool RlsForced, List<(string Name, string Command, bool Permissive, string? Using, string? Check)> Policies);

    /// <summary>Every table, view and materialized view in schema public, as the catalog describes it to the owner.</summary>
    private async Task<List<Relation>> RelationsAsync()
    {
        await using var conn = await OpenAsync(fixture.OwnerConnectionString);
        await using var cmd = new NpgsqlCommand("""
            SELECT c.relname, c.relkind::text, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped),
                   p.policyname, p.cmd, p.permissive = 'PERMISSIVE', p.qual, p.with_check
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            LEFT JOIN pg_policies p ON p.schemaname = 'public' AND p.tablename = c.relname
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
            ORDER BY c.relname, p.policyname
            """, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var relations = new List<Relation>();
        while (await reader.ReadAsync())
        {
            var name = reader.GetString(0);
            if (relations.LastOrDefault() is not { } relation || relation.Name != name)
                relations.Add(relation = new Relation(name, reader.GetString(1)[0], reader.GetBoolean(4), reader.GetBoolean(2), reader.GetBoolean(3), []));
            if (!reader.IsDBNull(5))
                relation.Policies.Add((reader.GetString(5), reader.GetString(6), reader.GetBoolean(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
        }
        return relations;
    }

    [Fact]
    public async Task every_tenant_table_has_row_level_security_forced_with_policies_on_app_tenant_id_and_every_other_table_says_why_not()
    {
        var relations = await RelationsAsync();
        var problems = new List<string>();
        foreach (var relation in relations)
        {
            if (relation.Kind is not ('r' or 'p'))
            {
                // Row-level security does not reach through a materialized view, nor through a view run as its owner.
                if (!TablesWithoutTenant.ContainsKey(relation.Name)) problems.Add($"{relation.Name}: a view ('{relation.Kind}') the audit does not know");
                continue;
            }
            if (!relation.HasTenantId)
            {
                if (!TablesWithoutTenant.ContainsKey(relation.Name))
                    problems.Add($"{relation.Name}: no tenant_id and not in {nameof(TablesWithoutTenant)}: give it tenant_id and RowLevelSecurity.EnableFor, or say why it needs neither");
                continue;
            }
            if (!relation.RlsEnabled) problems.Add($"{relation.Name}: row-level security is not enabled");
            if (!relation.RlsForced) problems.Add($"{relation.Name}: row-level security is not forced (the owner would pass)");
            if (!relation.Policies.Any(p => p.Command == "ALL" && ReadsTenant(p.Using) && ReadsTenant(p.Check)))
                problems.Add($"{relation.Name}: no policy for every command on tenant_id = app.tenant_id");
            // Permissive policies are OR'ed: one that ignores the tenant opens the table whatever the others say.
            foreach (var policy in relation.Policies.Where(p => p.Permissive && !(ReadsTenant(p.Using) && (p.Check is null || ReadsTenant(p.Check)))))
                problems.Add($"{relation.Name}: permissive policy {policy.Name} does not hold rows to app.tenant_id");
        }
        foreach (var listed in TablesWithoutTenant.Keys.Where(t => relations.All(r => r.Name != t)))
            problems.Add($"{listed} is in {nameof(TablesWithoutTenant)} but no longer exists");

        var tenantTables = relations.Where(r => r.HasTenantId).Select(r => r.Name).ToList();
        output.WriteLine($"{relations.Count} relations in public: {tenantTables.Count} tenant tables ({string.Join(", ", tenantTables)}), " +
            $"{relations.Count - tenantTables.Count} without tenant_id ({string.Join(", ", relations.Where(r => !r.HasTenantId).Select(r => r.Name))})");
        Assert.Contains("store_credentials", tenantTables);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Functions that run as their owner, each with why that is safe. A SECURITY DEFINER function is the other way
    /// a role can act beyond its grants: one that took a store id, or read rows with the owner's grants, would be a door in
    /// the wall that no route and no policy shows.</summary>
    private static readonly Dictionary<string, string> OwnersFunctions = new()
    {
        ["xeno_analyze_store_tables"] = "ANALYZE of the shop tables after a backfill: takes no argument, returns nothing, reads or changes no row",
        ["xeno_analyze_aggregate_tables"] = "ANALYZE of the aggregate tables after a backfill's rebuild: takes no argument, returns nothing, reads or changes no row",
    };

    [Fact]
    public async Task every_function_run_as_its_owner_says_why_it_is_safe()
    {
        await using var conn = await OpenAsync(fixture.OwnerConnectionString);
        await using var cmd = new NpgsqlCommand("""
            SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.prosecdef ORDER BY 1
            """, conn);
        var functions = new List<string>();
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) functions.Add(reader.GetString(0));
        var problems = functions.Where(f => !OwnersFunctions.ContainsKey(f))
            .Select(f => $"{f} runs as its owner and is not in {nameof(OwnersFunctions)}: say why it cannot reach another tenant's rows")
            .Concat(OwnersFunctions.Keys.Where(f => !functions.Contains(f)).Select(f => $"{f} is in {nameof(OwnersFunctions)} but no longer exists"))
            .ToList();
        output.WriteLine($"{functions.Count} SECURITY DEFINER functions in public: {string.Join(", ", functions)}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Policies bind nobody who is a superuser or has BYPASSRLS, and forcing row-level security does not change
    /// that: the audit above means nothing unless the roles requests, jobs and the key ring run under have neither.</summary>
    [Fact]
    public async Task the_roles_xeno_serves_under_are_neither_superusers_nor_bypass_row_level_security()
    {
        var problems = new List<string>();
        foreach (var (what, connectionString) in new[] { ("app", fixture.AppConnectionString), ("secrets", fixture.SecretsConnectionString) })
        {
            await using var conn = await OpenAsync(connectionString);
            await using var cmd = new NpgsqlCommand("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user", conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            var role = reader.GetString(0);
            if (reader.GetBoolean(1)) problems.Add($"the {what} role {role} is a superuser");
            if (reader.GetBoolean(2)) problems.Add($"the {what} role {role} has BYPASSRLS");
            output.WriteLine($"the {what} role {role}: superuser {reader.GetBoolean(1)}, BYPASSRLS {reader.GetBoolean(2)}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static bool ReadsTenant(string? expression) =>
        expression is not null && expression.Contains("tenant_id", StringComparison.Ordinal)
        && expression.Contains("current_setting('app.tenant_id'", StringComparison.Ordinal);

    [Fact]
    public async Task as_the_app_role_with_tenant_a_set_no_row_of_b_is_visible_in_any_tenant_table_and_none_can_be_written_for_b()
    {
        var (a, b) = await TwoTenantsAsync();
        var tables = await TenantTablesAsync();
        var problems = new List<string>();
        await using var conn = await OpenAsync(fixture.AppConnectionString, a.Store.Id);
        // Whatever slips through is undone: the audit must not leave a row of A's in B's tables.
        await using var transaction = await conn.BeginTransactionAsync();

        foreach (var table in tables)
        {
            // Both tenants have rows here, or "none of B's is visible" would hold of an empty table.
            var ofA = await CountAsync(conn, $"SELECT count(*) FROM {table} WHERE tenant_id = @a", a, b);
            var ofB = Convert.ToInt64(await fixture.ScalarAsync(b.Store.Id, $"SELECT count(*) FROM {table}"));
            if (ofA == 0 || ofB == 0)
            {
                problems.Add($"{table}: A has {ofA} rows and B {ofB}: give both data here, or the wall is not tried");
                continue;
            }
            if (await CountAsync(conn, $"SELECT count(*) FROM {table} WHERE tenant_id = @b", a, b) is var seen and > 0)
                problems.Add($"{table}: {seen} of B's rows are visible with A's tenant set");
            if (await CountAsync(conn, $"SELECT count(*) FROM {table}", a, b) != ofA)
                problems.Add($"{table}: rows of another tenant than A are visible");
            if (await CountAsync(conn, $"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = @b", a, b, execute: true) is var updated and > 0)
                problems.Add($"{table}: {updated} of B's rows could be updated");
            if (await CountAsync(conn, $"DELETE FROM {table} WHERE tenant_id = @b", a, b, execute: true) is var deleted and > 0)
                problems.Add($"{table}: {deleted} of B's rows could be deleted");

            // A copy of one of A's rows, given to B; and one of A's rows moved to B.
            var columns = await WritableColumnsAsync(conn, table);
            var copy = string.Join(", ", columns.Select(c => c == "tenant_id" ? "@b" : c));
            problems.AddRange(await RefusedAsync(conn, table, "an INSERT of a row for B",
                $"INSERT INTO {table} ({string.Join(", ", columns)}) SELECT {copy} FROM {table} WHERE tenant_id = @a LIMIT 1", a, b));
            problems.AddRange(await RefusedAsync(conn, table, "an UPDATE moving A's row to B",
                $"UPDATE {table} SET tenant_id = @b WHERE ctid = (SELECT ctid FROM {table} WHERE tenant_id = @a LIMIT 1)", a, b));
        }
        await transaction.RollbackAsync();

        output.WriteLine($"{tables.Count} tenant tables audited as the app role: {string.Join(", ", tables)}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static async Task<long> CountAsync(NpgsqlConnection conn, string sql, Tenant a, Tenant b, bool execute = false)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("a", a.Store.Id);
        cmd.Parameters.AddWithValue("b", b.Store.Id);
        return execute ? await cmd.ExecuteNonQueryAsync() : (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>The statement must fail on the row-level security policy (a missing grant would fail too, with the same
    /// SQLSTATE, and prove nothing). A savepoint lets the audit go on after the refusal.</summary>
    private static async Task<IEnumerable<string>> RefusedAsync(NpgsqlConnection conn, string table, string what, string sql, Tenant a, Tenant b)
    {
        await using (var savepoint = new NpgsqlCommand("SAVEPOINT attempt", conn)) await savepoint.ExecuteNonQueryAsync();
        try
        {
            var rows = await CountAsync(conn, sql, a, b, execute: true);
            return [$"{table}: {what} succeeded ({rows} rows)"];
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && e.MessageText.Contains("row-level security"))
        {
            return [];
        }
        catch (PostgresException e)
        {
            return [$"{table}: {what} failed, but not on row-level security: {e.SqlState} {e.MessageText}"];
        }
        finally
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK TO SAVEPOINT attempt", conn);
            await rollback.ExecuteNonQueryAsync();
        }
    }

    private static async Task<List<string>> WritableColumnsAsync(NpgsqlConnection conn, string table)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT quote_ident(attname) FROM pg_attribute
            WHERE attrelid = ('public.' || quote_ident(@t))::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' AND attidentity <> 'a'
            ORDER BY attnum
            """, conn);
        cmd.Parameters.AddWithValue("t", table);
        var columns = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) columns.Add(reader.GetString(0));
        return columns;
    }
}
