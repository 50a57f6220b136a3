using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Infrastructure.Database;

public sealed class User
{
    public Guid Id { get; set; }
    /// <summary>Lower-cased and trimmed, so that one address cannot register twice by case.</summary>
    public required string Email { get; set; }
    /// <summary>Bumped by logout and password change; tokens carrying an older version are refused.</summary>
    public int TokenVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>May open the job dashboard. Only granted from the command line (<c>operator grant</c>), never by signing up.</summary>
    public bool IsOperator { get; set; }
}

/// <summary>A user's password hash, kept apart from <see cref="User"/>: only the secrets role reads this table, so
/// a query running as the app role (every request and job) cannot reach any hash.</summary>
public sealed class UserPassword
{
    public Guid UserId { get; set; }
    public required string Hash { get; set; }
    public DateTimeOffset ChangedAt { get; set; }
}

/// <summary>A connected Shopify shop. Each store is one tenant; its id is the tenant id.</summary>
public sealed class Store
{
    public Guid Id { get; set; }
    public required string ShopDomain { get; set; }
    public required string Name { get; set; }
    public required string Currency { get; set; }
    public required string Timezone { get; set; }
    public StoreStatus Status { get; set; }
    /// <summary>When the app was uninstalled from the shop (while <see cref="Status"/> says so): shop/redact erases the
    /// store only once this is 48 hours past.</summary>
    public DateTimeOffset? UninstalledAt { get; set; }
    public DateTimeOffset ConnectedAt { get; set; }
    /// <summary>Shopify's numeric id of the shop, from its <c>shop { id }</c> when connected (null: connected before
    /// Xeno kept it, until the store is connected again).</summary>
    public long? ShopifyShopId { get; set; }
    public DateTimeOffset? LastSyncedAt { get; set; }
    /// <summary>Set when Shopify refuses the stored token: syncs stop until the merchant reconnects.</summary>
    public string? ConnectionError { get; set; }
    /// <summary>Moves on with every write of the store's data: a dashboard tile drawn at this version
    /// needs no new query while it stays the same.</summary>
    public long DataVersion { get; set; }
    /// <summary>The time zone the store's aggregates were built for (their days are local days); null before they are
    /// built. When it differs from <see cref="Timezone"/> they are rebuilt whole.</summary>
    public string? AggregatesTimezone { get; set; }
    /// <summary>The local day the store's trailing-window rankings end on (see ShopAggregates).</summary>
    public DateOnly? WindowsDay { get; set; }
    public List<StoreMember> Members { get; set; } = [];
}

public enum StoreStatus { Active, Uninstalled }

public sealed class StoreMember
{
    public Guid StoreId { get; set; }
    public Guid UserId { get; set; }
    public DateTimeOffset AddedAt { get; set; }
    /// <summary>See <see cref="MemberRoles"/>.</summary>
    public string Role { get; set; } = MemberRoles.Owner;
}

/// <summary>What a member may do with a store: an owner everything (connect, sync, settings, team, delete), a viewer
/// reads its dashboards, metrics and team, and may leave.</summary>
public static class MemberRoles
{
    public const string Owner = "owner";
    public const string Viewer = "viewer";

    public static bool IsValid(string? role) => role is Owner or Viewer;
}

/// <summary>How Xeno reaches the store's shop, encrypted with Data Protection (see ShopifyCredentials).
/// Tenant-owned, so it is readable only while that store's tenant is set.</summary>
public sealed class StoreCredential : ITenantOwned
{
    public Guid TenantId { get; set; }
    /// <summary>How the store was connected: see <see cref="CredentialMethods"/>.</summary>
    public string Method { get; set; } = CredentialMethods.AccessToken;
    /// <summary>Null once Shopify has refused the credentials for good (the store is then uninstalled).</summary>
    public string? EncryptedAccessToken { get; set; }
    /// <summary>Null for tokens that never expire (legacy custom-app tokens).</summary>
    public DateTimeOffset? AccessTokenExpiresAt { get; set; }
    /// <summary>OAuth installs only: single use, replaced by Shopify at every refresh.</summary>
    public string? EncryptedRefreshToken { get; set; }
    public DateTimeOffset? RefreshTokenExpiresAt { get; set; }
    /// <summary>Client-credentials apps: the app's client id, to ask for the next token.</summary>
    public string? ClientId { get; set; }
    /// <summary>The secret of the merchant's own app (client credentials, or a legacy custom app's API
    /// secret): it signs that app's webhooks. Null for OAuth installs, whose app is Xeno's own.</summary>
    public string? EncryptedAppSecret { get; set; }
    public string? Scopes { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public static class CredentialMethods
{
    /// <summary>Installed through Shopify's OAuth flow: expiring access token and rotating refresh token.</summary>
    public const string OAuth = "oauth";
    /// <summary>An app of the merchant's own organization (Dev Dashboard): tokens from the client credentials grant.</summary>
    public const string ClientCredentials = "client_credentials";
    /// <summary>A pasted Admin API token of a custom app made in the Shopify admin before 2026.</summary>
    public const string AccessToken = "access_token";
}

/// <summary>An install under way: the <c>state</c> Xeno sent to Shopify's authorize page, single use,
/// bound to one browser (a hash of its cookie) and one account, valid for ten minutes. Only hashes are
/// kept, so a database read cannot complete someone else's install.</summary>
public sealed class OAuthState
{
    public Guid Id { get; set; }
    public required string StateHash { get; set; }
    public required string BrowserHash { get; set; }
    public Guid UserId { get; set; }
    public required string ShopDomain { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>Failed logins per key ("account:…" or "client:…") in a fixed window; kept in the
/// database so that every web process shares one count.</summary>
public sealed class LoginThrottle
{
    public required string Key { get; set; }
    public DateTimeOffset WindowStart { get; set; }
    public int Failures { get; set; }
}
