using Hangfire;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xeno.Web.Features.Sync;
using Xeno.Web.Features.Webhooks;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Stores;

/// <summary>
/// Connects a shop to an account, by one of the three ways in: Shopify's install (the OAuth callback hands over its
/// grant), an app of the merchant's own organization (client credentials), or a custom app made in the Shopify admin
/// before 2026 (a pasted access token, with that app's API secret when its webhooks should reach Xeno). The credentials
/// are tried on the shop first; only then does Xeno say whether another account has the shop, so that a guess reveals
/// nothing about who uses Xeno.
/// </summary>
public static class ConnectStore
{
    public sealed record Request(string? ShopDomain, string? AccessToken = null, string? ApiSecret = null, string? ClientId = null, string? ClientSecret = null);

    public abstract record Outcome
    {
        public sealed record Connected(Store Store, bool IsNew) : Outcome;
        public sealed record Refused(string Message) : Outcome;
        public sealed record TakenByAnotherAccount : Outcome;
        public sealed record ShopUnreachable(string Message) : Outcome;
    }

    /// <summary>What connecting needs, resolved from the container (bound with [AsParameters] on the endpoints).</summary>
    public sealed record Services(
        XenoDb Db, TenantContext Tenant, ShopifyAdminClient Shopify, ShopifyOAuthClient OAuth, ShopifyCredentials Credentials,
        IBackgroundJobClient Jobs, IConfiguration Config, TimeProvider Clock, ILogger<Request> Logger)
    {
        public static Services From(IServiceProvider sp) => new(
            sp.GetRequiredService<XenoDb>(), sp.GetRequiredService<TenantContext>(), sp.GetRequiredService<ShopifyAdminClient>(),
            sp.GetRequiredService<ShopifyOAuthClient>(), sp.GetRequiredService<ShopifyCredentials>(), sp.GetRequiredService<IBackgroundJobClient>(),
            sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Request>>());
    }

    public const string UnknownShop = "Shopify does not know this shop. Check the domain: it is the one ending in .myshopify.com.";
    public const string Unreachable = "Xeno could not reach Shopify. Try again in a minute.";

    /// <summary>A store connected by the merchant's own credentials: an access token, or an app's client id and secret.</summary>
    public static async Task<Outcome> ExecuteAsync(Guid userId, Request request, Services s, CancellationToken ct)
    {
        if (!ShopDomain.TryNormalize(request.ShopDomain, out var domain))
            return new Outcome.Refused("The shop domain must look like your-shop.myshopify.com.");
        var token = request.AccessToken?.Trim() ?? "";
        var clientId = request.ClientId?.Trim() ?? "";
        var clientSecret = request.ClientSecret?.Trim() ?? "";
        var apiSecret = request.ApiSecret?.Trim() ?? "";
        if (token.Length > 0 == (clientId.Length > 0 || clientSecret.Length > 0))
            return new Outcome.Refused("Give either an Admin API access token, or an app's client id and client secret.");
        if (token.Length > 512 || apiSecret.Length > 512 || clientId.Length > 512 || clientSecret.Length > 512)
            return new Outcome.Refused("That credential is too long to be Shopify's.");
        // Shopify's tokens, ids and secrets are printable ASCII. Anything else (a line break pasted along, say) cannot go
        // into the header or form Xeno sends to Shopify: HttpClient threw, and the request ended in a 500.
        if (!IsCredential(token) || !IsCredential(apiSecret) || !IsCredential(clientId) || !IsCredential(clientSecret))
            return new Outcome.Refused("That credential has characters no Shopify credential has. Copy it again from Shopify.");

        if (token.Length > 0)
            return await ConnectAsync(userId, domain, new NewCredential(CredentialMethods.AccessToken,
                new TokenGrant(token, null, null, null, null), AppSecret: apiSecret.Length > 0 ? apiSecret : null), s, ct);

        if (clientId.Length == 0 || clientSecret.Length == 0)
            return new Outcome.Refused("Give both the app's client id and its client secret.");
        TokenGrant grant;
        try { grant = await s.OAuth.ClientCredentialsAsync(domain, clientId, clientSecret, ct); }
        catch (ShopifyGrantRefusedException)
        {
            return new Outcome.Refused("Shopify refused these client credentials. They must belong to an app your organization made in the Dev Dashboard and installed on this shop.");
        }
        catch (ShopifyApiException e) when (e.StatusCode == 404) { return new Outcome.Refused(UnknownShop); }
        catch (Exception e) when (e is ShopifyApiException or HttpRequestException)
        {
            s.Logger.LogWarning("The client credentials grant for {Shop} failed: {Error}", domain, e.Message);
            return new Outcome.ShopUnreachable(Unreachable);
        }
        return await ConnectAsync(userId, domain, new NewCredential(CredentialMethods.ClientCredentials, grant, clientId, clientSecret), s, ct);
    }

    private static bool IsCredential(string value) => value.All(c => c is >= ' ' and <= '~');

    /// <summary>Every way in ends here: the token is tried on the shop, then the store is created for the account (or a
    /// store it already has gets the new credentials and becomes active again, its data intact), a sync is queued and
    /// webhooks are subscribed.</summary>
    public static async Task<Outcome> ConnectAsync(Guid userId, string domain, NewCredential credential, Services s, CancellationToken ct)
    {
        ShopifyAdminClient.ShopInfo shop;
        try { shop = await s.Shopify.GetShopAsync(domain, credential.Grant.AccessToken, ct); }
        catch (ShopifyAuthException)
        {
            return new Outcome.Refused("The shop refused this access token. Check that it is the Admin API token of this shop's app.");
        }
        catch (ShopifyApiException e) when (e.StatusCode == 404) { return new Outcome.Refused(UnknownShop); }
        catch (Exception e) when (e is HttpRequestException or ShopifyApiException or TaskCanceledException)
        {
            s.Logger.LogWarning("Connecting {Shop} failed: {Error}", domain, e.Message);
            return new Outcome.ShopUnreachable(Unreachable);
        }

        var db = s.Db;
        var existing = await db.Stores.Include(x => x.Members).FirstOrDefaultAsync(x => x.ShopDomain == domain, ct);
        if (existing is not null && existing.Members.All(m => m.UserId != userId))
            return new Outcome.TakenByAnotherAccount();
        // A viewer of the store may not change how Xeno reaches it.
        if (existing is not null && existing.Members.Any(m => m.UserId == userId && m.Role != MemberRoles.Owner))
            return new Outcome.Refused(StoreOwnerFilter.Refusal);

        var now = s.Clock.GetUtcNow();
        var store = existing ?? new Store
        {
            Id = Guid.CreateVersion7(), ShopDomain = domain, Name = shop.Name, Currency = shop.CurrencyCode,
            Timezone = shop.IanaTimezone, ConnectedAt = now,
        };
        store.Name = shop.Name;
        store.Currency = shop.CurrencyCode;
        store.Timezone = shop.IanaTimezone;
        store.ShopifyShopId = shop.Id ?? store.ShopifyShopId;
        store.Status = StoreStatus.Active;
        store.UninstalledAt = null;
        store.ConnectionError = null;
        if (existing is null)
        {
            db.Stores.Add(store);
            db.StoreMembers.Add(new StoreMember { StoreId = store.Id, UserId = userId, AddedAt = now });
        }

        s.Tenant.Set(store.Id);
        await s.Credentials.StageAsync(db, credential, ct);
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return new Outcome.TakenByAnotherAccount(); // connected by someone else a moment ago
        }
        s.Logger.LogInformation("Store {StoreId} connected ({Shop}, {Method})", store.Id, domain, credential.Method);

        // Pulled whole, a reconnected store too: while it was uninstalled no webhook told Xeno what was deleted, which
        // an incremental sync (what changed since) cannot see either.
        await QueueSync.ExecuteAsync(db, s.Tenant, s.Jobs, s.Clock, "full", ct);
        try { await RegisterWebhooks.EnsureAsync(db, s.Credentials, s.Config, ct); }
        catch (Exception e) when (e is ShopifyApiException or ShopifyAuthException or HttpRequestException)
        {
            // The store works without webhooks (the scheduled sync reconciles); "Repair webhooks" tries again.
            s.Logger.LogWarning("Webhook subscriptions for store {StoreId} failed: {Error}", store.Id, e.Message);
        }
        return new Outcome.Connected(store, existing is null);
    }

    public static async Task<IResult> HandleApiAsync(Request request, HttpContext http, [AsParameters] Services s, CancellationToken ct) =>
        await ExecuteAsync(http.User.UserId(), request, s, ct) switch
        {
            Outcome.Connected { IsNew: true } c => TypedResults.Created($"/api/v1/stores/{c.Store.Id}", StoreResponse.From(c.Store)),
            Outcome.Connected c => TypedResults.Ok(StoreResponse.From(c.Store)),
            Outcome.Refused r => TypedResults.Problem(title: r.Message, statusCode: StatusCodes.Status422UnprocessableEntity),
            Outcome.ShopUnreachable u => TypedResults.Problem(title: u.Message, statusCode: StatusCodes.Status502BadGateway),
            _ => TypedResults.Problem(title: TakenMessage, statusCode: StatusCodes.Status409Conflict),
        };

    public const string TakenMessage = "Another Xeno account has already connected this shop. Ask its owner to give you access.";

    /// <summary>The two forms below the install on the stores page: client credentials, or a pasted token.</summary>
    public static async Task<IResult> HandlePageAsync(HttpContext http, [AsParameters] Services s, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var request = new Request(form["shopDomain"], form["accessToken"], form["apiSecret"], form["clientId"], form["clientSecret"]);
        var outcome = await ExecuteAsync(http.User.UserId(), request, s, ct);
        if (outcome is Outcome.Connected connected) return Results.Redirect($"/stores/{connected.Store.Id}");
        var error = outcome switch
        {
            Outcome.Refused r => r.Message,
            Outcome.ShopUnreachable u => u.Message,
            _ => TakenMessage,
        };
        var way = request.ClientId is { Length: > 0 } || request.ClientSecret is { Length: > 0 } ? ConnectWay.ClientCredentials : ConnectWay.AccessToken;
        return await ListStores.RenderPageAsync(http, s.Db, new ConnectForm(way, request.ShopDomain, error));
    }
}

public enum ConnectWay { Install, ClientCredentials, AccessToken }

/// <summary>A form of the stores page shown again with what the merchant typed (never a secret) and what went wrong.</summary>
public sealed record ConnectForm(ConnectWay Way, string? ShopDomain, string? Error)
{
    public static readonly ConnectForm Empty = new(ConnectWay.Install, null, null);

    public string? ErrorFor(ConnectWay way) => Way == way ? Error : null;
    public string? DomainFor(ConnectWay way) => Way == way ? ShopDomain : null;
}
