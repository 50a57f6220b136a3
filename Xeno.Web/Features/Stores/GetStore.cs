using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Sync;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Stores;

public static class GetStore
{
    /// <summary>The store of the resolved tenant (the access filter has already checked membership).</summary>
    public static Task<Store> QueryAsync(XenoDb db, TenantContext tenant) =>
        db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId);

    public static async Task<IResult> HandleApiAsync(XenoDb db, TenantContext tenant) =>
        TypedResults.Ok(StoreResponse.From(await QueryAsync(db, tenant)));

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, TenantContext tenant, CancellationToken ct)
    {
        var store = await QueryAsync(db, tenant);
        var sync = new SyncTileModel(store.Id, store.LastSyncedAt, store.ConnectionError, await GetSyncStatus.QueryAsync(db, ct));
        return StorePage.Create(new StorePageModel(http.User.Identity!.Name!, StoreResponse.From(store), sync));
    }
}

public sealed record StorePageModel(string UserEmail, StoreResponse Store, SyncTileModel? Sync);
