using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xeno.Web.Features.Sync;
using Xeno.Web.Features.Webhooks;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Stores;

/// <summary>Connects a shop with an Admin API access token the merchant pasted (a custom app's
/// <c>shpat_…</c>): the token is tried on the shop first, then kept encrypted.</summary>
public static class ConnectStore
{
    public sealed record Request(string? ShopDomain, string? AccessToken);

    public abstract record Outcome
    {
        public sealed record Connected(Store Store, bool IsNew) : Outcome;
        public sealed record Refused(string Message) : Outcome;
        public sealed record TakenByAnotherAccount : Outcome;
        public sealed record ShopUnreachable(string Message) : Outcome;
    }

    public const string TokenPurpose = "Xeno.Shopify.AccessToken.v1";

    public static async Task<Outcome> ExecuteAsync(
        Guid userId, Request request, XenoDb db, TenantContext tenant, ShopifyAdminClient shopify,
        IDataProtectionProvider protection, IBackgroundJobClient jobs, IConfiguration config, TimeProvider clock, ILogger logger, CancellationToken ct)
    {
        if (!ShopDomain.TryNormalize(request.ShopDomain, out var domain))
            return new Outcome.Refused("The shop domain must look like your-shop.myshopify.com.");
        var token = request.AccessToken?.Trim() ?? "";
        if (token.Length is 0 or > 512)
            return new Outcome.Refused("Paste the Admin API access token of your store's custom app.");

        var existing = await db.Stores.Include(s => s.Members).FirstOrDefaultAsync(s => s.ShopDomain == domain, ct);
        if (existing is not null && existing.Members.All(m => m.UserId != userId))
            return new Outcome.TakenByAnotherAccount();

        ShopifyAdminClient.ShopInfo shop;
        try { shop = await shopify.GetShopAsync(domain, token, ct); }
        catch (ShopifyAuthException)
        {
            return new Outcome.Refused("The shop refused this access token. Check that it is the Admin API token of this shop's app.");
        }
        catch (Exception e) when (e is HttpRequestException or ShopifyApiException or TaskCanceledException)
        {
            logger.LogWarning("Connecting {Shop} failed: {Error}", domain, e.Message);
            return new Outcome.ShopUnreachable("Xeno could not reach the shop. Try again in a minute.");
        }

        var now = clock.GetUtcNow();
        var store = existing ?? new Store
        {
            Id = Guid.CreateVersion7(), ShopDomain = domain, Name = shop.Name, Currency = shop.CurrencyCode,
            Timezone = shop.IanaTimezone, ConnectedAt = now,
        };
        store.Name = shop.Name;
        store.Currency = shop.CurrencyCode;
        store.Timezone = shop.IanaTimezone;
        store.Status = StoreStatus.Active;
        store.ConnectionError = null;
        if (existing is null)
        {
            db.Stores.Add(store);
            db.StoreMembers.Add(new StoreMember { StoreId = store.Id, UserId = userId, AddedAt = now });
        }

        tenant.Set(store.Id);
        var encrypted = protection.CreateProtector(TokenPurpose).Protect(token);
        var credential = await db.StoreCredentials.FirstOrDefaultAsync(ct);
        if (credential is null) db.StoreCredentials.Add(new StoreCredential { EncryptedAccessToken = encrypted, UpdatedAt = now });
        else { credential.EncryptedAccessToken = encrypted; credential.UpdatedAt = now; }

        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return new Outcome.TakenByAnotherAccount(); // connected by someone else a moment ago
        }
        logger.LogInformation("Store {StoreId} connected ({Shop})", store.Id, domain);
        // A new store is pulled whole; a reconnected one catches up on what changed meanwhile.
        await QueueSync.ExecuteAsync(db, tenant, jobs, clock, existing is null ? "full" : "incremental", ct);
        try { await RegisterWebhooks.EnsureAsync(db, shopify, protection, config, ct); }
        catch (Exception e) when (e is ShopifyApiException or ShopifyAuthException or HttpRequestException)
        {
            // The store works without webhooks (the scheduled sync reconciles); "Repair webhooks" tries again.
            logger.LogWarning("Webhook subscriptions for store {StoreId} failed: {Error}", store.Id, e.Message);
        }
        return new Outcome.Connected(store, existing is null);
    }

    public static async Task<IResult> HandleApiAsync(
        Request request, HttpContext http, XenoDb db, TenantContext tenant, ShopifyAdminClient shopify,
        IDataProtectionProvider protection, IBackgroundJobClient jobs, IConfiguration config, TimeProvider clock, ILogger<Request> logger, CancellationToken ct) =>
        await ExecuteAsync(http.User.UserId(), request, db, tenant, shopify, protection, jobs, config, clock, logger, ct) switch
        {
            Outcome.Connected { IsNew: true } c => TypedResults.Created($"/api/v1/stores/{c.Store.Id}", StoreResponse.From(c.Store)),
            Outcome.Connected c => TypedResults.Ok(StoreResponse.From(c.Store)),
            Outcome.Refused r => TypedResults.Problem(title: r.Message, statusCode: StatusCodes.Status422UnprocessableEntity),
            Outcome.ShopUnreachable u => TypedResults.Problem(title: u.Message, statusCode: StatusCodes.Status502BadGateway),
            _ => TypedResults.Problem(title: "Another Xeno account has already connected this shop.", statusCode: StatusCodes.Status409Conflict),
        };

    public static async Task<IResult> HandlePageAsync(
        HttpContext http, XenoDb db, TenantContext tenant, ShopifyAdminClient shopify,
        IDataProtectionProvider protection, IBackgroundJobClient jobs, IConfiguration config, TimeProvider clock, ILogger<Request> logger, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var request = new Request(form["shopDomain"], form["accessToken"]);
        var outcome = await ExecuteAsync(http.User.UserId(), request, db, tenant, shopify, protection, jobs, config, clock, logger, ct);
        if (outcome is Outcome.Connected connected) return Results.Redirect($"/stores/{connected.Store.Id}");
        var error = outcome switch
        {
            Outcome.Refused r => r.Message,
            Outcome.ShopUnreachable u => u.Message,
            _ => "Another Xeno account has already connected this shop.",
        };
        return await ListStores.RenderPageAsync(http, db, new ConnectForm(request.ShopDomain, error));
    }
}

public sealed record ConnectForm(string? ShopDomain, string? Error);
