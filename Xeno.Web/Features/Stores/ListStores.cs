using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Demo;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Stores;

public static class ListStores
{
    public static Task<List<Store>> QueryAsync(XenoDb db, Guid userId) =>
        db.Stores.AsNoTracking()
            .Where(s => s.Members.Any(m => m.UserId == userId))
            .OrderBy(s => s.Name).ThenBy(s => s.ShopDomain)
            .ToListAsync();

    public static async Task<IResult> HandleApiAsync(HttpContext http, XenoDb db) =>
        TypedResults.Ok(new StoreList((await QueryAsync(db, http.User.UserId())).Select(StoreResponse.From).ToList()));

    public static Task<IResult> HandlePageAsync(HttpContext http, XenoDb db) => RenderPageAsync(http, db, new ConnectForm(null, null));

    public static async Task<IResult> RenderPageAsync(HttpContext http, XenoDb db, ConnectForm form)
    {
        var stores = await QueryAsync(db, http.User.UserId());
        var demo = http.RequestServices.GetRequiredService<DemoShopInfo>();
        return StoresPage.Create(new StoresPageModel(http.User.Identity!.Name!, stores.Select(StoreResponse.From).ToList(), form, demo));
    }
}

public sealed record StoresPageModel(string UserEmail, IReadOnlyList<StoreResponse> Stores, ConnectForm Form, DemoShopInfo Demo);
