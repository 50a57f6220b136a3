using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Infrastructure.Shopify;

/// <summary>What a caller needs to talk to one store's shop right now.</summary>
public sealed record ShopAccess(Guid StoreId, string ShopDomain, string AccessToken, string Method)
{
    /// <summary>OAuth installs refresh, client-credentials apps ask again; a pasted token cannot be renewed.</summary>
    public bool CanRenew => Method is CredentialMethods.OAuth or CredentialMethods.ClientCredentials;
}

/// <summary>Credentials to keep for a store: how it was connected, the grant, and the merchant's own app where there is one.</summary>
public sealed record NewCredential(string Method, TokenGrant Grant, string? ClientId = null, string? AppSecret = null);

/// <summary>What the store pages show about a connection (never a secret).</summary>
public sealed record CredentialSummary(string Method, bool HasAppSecret, DateTimeOffset? AccessTokenExpiresAt, string? Scopes, bool HasToken)
{
    /// <summary>A pasted token with no API secret: Xeno cannot verify that app's webhooks, so it subscribes to none.</summary>
    public bool ReceivesWebhooks => Method != CredentialMethods.AccessToken || HasAppSecret;
}

/// <summary>
/// The one home of a store's Shopify credentials: they are stored encrypted here, loaded and decrypted here, refreshed
/// (OAuth) or asked for again (client credentials) here before they run out, and renewed here once after a 401.
/// </summary>
/// <remarks>
/// Shopify replaces the refresh token every time it is used, so two workers refreshing one store at once could keep a
/// spent one. A renewal therefore runs under the credential row's lock (<c>SELECT … FOR UPDATE</c>, which holds across
/// every process sharing the database), re-reads the row once it has the lock (another worker may have renewed it
/// meanwhile), and stores the new pair in the same transaction.
/// </remarks>
public sealed class ShopifyCredentials(
    IServiceScopeFactory scopes, IDataProtectionProvider protection, ShopifyAdminClient shopify, ShopifyOAuthClient oauth,
    TimeProvider clock, ILogger<ShopifyCredentials> logger)
{
    // The purpose of the first release's tokens, kept so that they still decrypt.
    private const string Purpose = "Xeno.Shopify.AccessToken.v1";

    /// <summary>Tokens with less than this left are renewed before use, so a long request never starts on a dying token.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(5);

    public const string UninstalledMessage =
        "Shopify no longer lets Xeno into this shop: the app was uninstalled or its access was revoked. Reinstall Xeno to resume syncing; the data Xeno holds is kept.";

    private IDataProtector Protector => protection.CreateProtector(Purpose);

    /// <summary>Adds or replaces the credentials of the tenant set on <paramref name="db"/>; the caller saves.</summary>
    public async Task StageAsync(XenoDb db, NewCredential credential, CancellationToken ct)
    {
        var row = await db.StoreCredentials.FirstOrDefaultAsync(ct);
        if (row is null)
        {
            row = new StoreCredential();
            db.StoreCredentials.Add(row);
        }
        var grant = credential.Grant;
        row.Method = credential.Method;
        row.EncryptedAccessToken = Protector.Protect(grant.AccessToken);
        row.AccessTokenExpiresAt = grant.AccessTokenExpiresAt;
        row.EncryptedRefreshToken = grant.RefreshToken is { } refresh ? Protector.Protect(refresh) : null;
        row.RefreshTokenExpiresAt = grant.RefreshTokenExpiresAt;
        row.ClientId = credential.ClientId;
        row.EncryptedAppSecret = credential.AppSecret is { Length: > 0 } secret ? Protector.Protect(secret) : null;
        row.Scopes = grant.Scopes;
        row.UpdatedAt = clock.GetUtcNow();
    }

    /// <summary>A working access token for the store, renewed first when it is about to expire.</summary>
    /// <exception cref="ShopifyAuthException">The store has no usable credentials (uninstalled, or refused for good).</exception>
    public async Task<ShopAccess> GetAsync(Guid storeId, CancellationToken ct)
    {
        await using var scope = TenantScope(storeId, out var db);
        var (store, row) = await LoadAsync(db, ct);
        if (NeedsRenewal(row)) return await RenewAsync(storeId, rejectedToken: null, ct);
        return Access(store, row);
    }

    /// <summary>
    /// Renews the store's token: after Shopify answered 401 to <paramref name="rejectedToken"/>, or (null) because it is
    /// about to expire. Nothing is renewed when another worker already did it meanwhile.
    /// </summary>
    public async Task<ShopAccess> RenewAsync(Guid storeId, string? rejectedToken, CancellationToken ct)
    {
        await using var scope = TenantScope(storeId, out var db);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The lock first, then a fresh read: the row as the last renewal committed it.
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT 1 FROM store_credentials WHERE tenant_id = {storeId} FOR UPDATE", ct);
        var (store, row) = await LoadAsync(db, ct, tracked: true);
        var current = Access(store, row);
        var renewedMeanwhile = rejectedToken is null ? !NeedsRenewal(row) : current.AccessToken != rejectedToken;
        if (renewedMeanwhile)
        {
            await transaction.CommitAsync(ct);
            return current;
        }
        if (!current.CanRenew)
            throw new ShopifyAuthException("Shopify refused Xeno's access token for this store. Reconnect the store with a valid token.");

        TokenGrant grant;
        try
        {
            grant = row!.Method == CredentialMethods.OAuth
                ? await oauth.RefreshAsync(store.ShopDomain, Unprotect(row.EncryptedRefreshToken), ct)
                : await oauth.ClientCredentialsAsync(store.ShopDomain, row.ClientId ?? "", Unprotect(row.EncryptedAppSecret), ct);
        }
        catch (ShopifyGrantRefusedException e)
        {
            logger.LogWarning("Shopify refused to renew the credentials of store {StoreId} ({Error}); the store is marked uninstalled", storeId, e.Error);
            await MarkUninstalledAsync(db, storeId, UninstalledMessage, clock.GetUtcNow(), ct);
            await transaction.CommitAsync(ct);
            throw new ShopifyAuthException(UninstalledMessage);
        }
        // A transient failure leaves the transaction to roll back: the stored pair stays as it was, and stays valid,
        // since Shopify keeps a used refresh token until its replacement is used.

        row.EncryptedAccessToken = Protector.Protect(grant.AccessToken);
        row.AccessTokenExpiresAt = grant.AccessTokenExpiresAt;
        if (grant.RefreshToken is { } refresh)
        {
            row.EncryptedRefreshToken = Protector.Protect(refresh);
            row.RefreshTokenExpiresAt = grant.RefreshTokenExpiresAt;
        }
        if (grant.Scopes is not null) row.Scopes = grant.Scopes;
        row.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogInformation("Renewed the Shopify token of store {StoreId} ({Method})", storeId, row.Method);
        return Access(store, row);
    }

    /// <summary>
    /// One GraphQL operation for the store. A 401 renews the token once and tries once more (Shopify did not run the
    /// operation, so even a mutation is safe to send again); a second 401 is the caller's.
    /// </summary>
    public async Task<JsonObject> QueryAsync(Guid storeId, string document, object? variables, CancellationToken ct)
    {
        var access = await GetAsync(storeId, ct);
        try
        {
            return await shopify.QueryAsync(access.ShopDomain, access.AccessToken, document, variables, ct);
        }
        catch (ShopifyAuthException) when (access.CanRenew)
        {
            var renewed = await RenewAsync(storeId, access.AccessToken, ct);
            return await shopify.QueryAsync(renewed.ShopDomain, renewed.AccessToken, document, variables, ct);
        }
    }

    /// <summary>The secret that signs the webhooks of the store's own app; null when its webhooks come from Xeno's app.</summary>
    public async Task<string?> WebhookSecretAsync(XenoDb db, CancellationToken ct)
    {
        var encrypted = await db.StoreCredentials.AsNoTracking().Select(c => c.EncryptedAppSecret).FirstOrDefaultAsync(ct);
        return encrypted is null ? null : Protector.Unprotect(encrypted);
    }

    public static async Task<CredentialSummary?> DescribeAsync(XenoDb db, CancellationToken ct) =>
        await db.StoreCredentials.AsNoTracking()
            .Select(c => new CredentialSummary(c.Method, c.EncryptedAppSecret != null, c.AccessTokenExpiresAt, c.Scopes, c.EncryptedAccessToken != null))
            .FirstOrDefaultAsync(ct);

    /// <summary>Uninstalled: the tokens are gone (Shopify revoked them), syncs stop, the data stays for a reinstall.</summary>
    /// <summary>Ends the store's access. <paramref name="at"/> starts the 48 hours after which shop/redact may erase the
    /// store; a store already uninstalled keeps its first time, so a repeated app/uninstalled cannot push it back.</summary>
    public static async Task MarkUninstalledAsync(XenoDb db, Guid storeId, string reason, DateTimeOffset at, CancellationToken ct)
    {
        await db.StoreCredentials.ExecuteUpdateAsync(s => s
            .SetProperty(c => c.EncryptedAccessToken, (string?)null).SetProperty(c => c.EncryptedRefreshToken, (string?)null)
            .SetProperty(c => c.AccessTokenExpiresAt, (DateTimeOffset?)null).SetProperty(c => c.RefreshTokenExpiresAt, (DateTimeOffset?)null), ct);
        await db.Stores.Where(s => s.Id == storeId).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.Status, StoreStatus.Uninstalled).SetProperty(x => x.ConnectionError, reason)
            .SetProperty(x => x.UninstalledAt, x => x.Status == StoreStatus.Uninstalled && x.UninstalledAt != null ? x.UninstalledAt : at), ct);
    }

    private bool NeedsRenewal(StoreCredential? row) =>
        row is { Method: CredentialMethods.OAuth or CredentialMethods.ClientCredentials }
        && (row.EncryptedAccessToken is null || row.AccessTokenExpiresAt is { } expires && expires - clock.GetUtcNow() < RenewBefore)
        // An uninstalled OAuth store has nothing left to renew with.
        && (row.Method == CredentialMethods.ClientCredentials || row.EncryptedRefreshToken is not null);

    private ShopAccess Access(Store store, StoreCredential? row)
    {
        if (row?.EncryptedAccessToken is not { } encrypted)
            throw new ShopifyAuthException(store.Status == StoreStatus.Uninstalled
                ? UninstalledMessage
                : "Xeno holds no access token for this store. Reconnect it.");
        return new ShopAccess(store.Id, store.ShopDomain, Protector.Unprotect(encrypted), row.Method);
    }

    private string Unprotect(string? encrypted) =>
        encrypted is null ? throw new ShopifyAuthException(UninstalledMessage) : Protector.Unprotect(encrypted);

    private static async Task<(Store Store, StoreCredential? Row)> LoadAsync(XenoDb db, CancellationToken ct, bool tracked = false)
    {
        var storeId = db.CurrentTenantId!.Value;
        var store = await db.Stores.AsNoTracking().FirstOrDefaultAsync(s => s.Id == storeId, ct)
            ?? throw new ShopifyAuthException("The store was disconnected.");
        var rows = tracked ? db.StoreCredentials : db.StoreCredentials.AsNoTracking();
        return (store, await rows.FirstOrDefaultAsync(ct));
    }

    /// <summary>A scope of its own for the store's tenant: its own connection, so a renewal's transaction never mixes
    /// with the caller's unit of work.</summary>
    private AsyncServiceScope TenantScope(Guid storeId, out XenoDb db)
    {
        var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(storeId);
        db = scope.ServiceProvider.GetRequiredService<XenoDb>();
        return scope;
    }
}
