using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Infrastructure.Database;

public sealed class User
{
    public Guid Id { get; set; }
    /// <summary>Lower-cased and trimmed, so that one address cannot register twice by case.</summary>
    public required string Email { get; set; }
    public required string PasswordHash { get; set; }
    /// <summary>Bumped by logout and password change; tokens carrying an older version are refused.</summary>
    public int TokenVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
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
    public DateTimeOffset ConnectedAt { get; set; }
    public DateTimeOffset? LastSyncedAt { get; set; }
    /// <summary>Set when Shopify refuses the stored token: syncs stop until the merchant reconnects.</summary>
    public string? ConnectionError { get; set; }
    /// <summary>Moves on with every write of the store's data: a dashboard tile drawn at this version
    /// needs no new query while it stays the same.</summary>
    public long DataVersion { get; set; }
    public List<StoreMember> Members { get; set; } = [];
}

public enum StoreStatus { Active, Uninstalled }

public sealed class StoreMember
{
    public Guid StoreId { get; set; }
    public Guid UserId { get; set; }
    public DateTimeOffset AddedAt { get; set; }
}

/// <summary>The store's Shopify access token, encrypted with Data Protection. Tenant-owned, so
/// it is readable only while that store's tenant is set.</summary>
public sealed class StoreCredential : ITenantOwned
{
    public Guid TenantId { get; set; }
    public required string EncryptedAccessToken { get; set; }
    public string? Scopes { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Failed logins per key ("account:…" or "client:…") in a fixed window; kept in the
/// database so that every web process shares one count.</summary>
public sealed class LoginThrottle
{
    public required string Key { get; set; }
    public DateTimeOffset WindowStart { get; set; }
    public int Failures { get; set; }
}
