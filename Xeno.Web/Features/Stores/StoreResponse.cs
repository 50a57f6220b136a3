using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Stores;

public sealed record StoreResponse(
    Guid Id, string ShopDomain, string Name, string Currency, string Timezone, string Status,
    DateTimeOffset ConnectedAt, DateTimeOffset? LastSyncedAt)
{
    public static StoreResponse From(Store s) => new(
        s.Id, s.ShopDomain, s.Name, s.Currency, s.Timezone, s.Status == StoreStatus.Active ? "active" : "uninstalled",
        s.ConnectedAt, s.LastSyncedAt);
}

public sealed record StoreList(IReadOnlyList<StoreResponse> Items);
