using Microsoft.EntityFrameworkCore;
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
}

