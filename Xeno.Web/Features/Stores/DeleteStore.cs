using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Stores;

/// <summary>Disconnects a store and deletes all of its data (the tenant tables cascade from it).</summary>
public static class DeleteStore
{
    public static async Task ExecuteAsync(XenoDb db, TenantContext tenant, ILogger logger)
    {
        var storeId = tenant.TenantId!.Value;
        await db.Stores.Where(s => s.Id == storeId).ExecuteDeleteAsync();
        logger.LogInformation("Store {StoreId} deleted with its data", storeId);
    }

    public static async Task<IResult> HandleApiAsync(XenoDb db, TenantContext tenant, ILogger<Store> logger)
    {
        await ExecuteAsync(db, tenant, logger);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> HandlePageAsync(XenoDb db, TenantContext tenant, ILogger<Store> logger)
    {
        await ExecuteAsync(db, tenant, logger);
        return Results.Redirect("/stores");
    }
}
