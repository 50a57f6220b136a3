using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Demo;
using Xeno.Web.Features.Metrics;
using Xeno.Web.Infrastructure.Tenancy;
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

    public static Task<IResult> HandlePageAsync(HttpContext http, XenoDb db) => RenderPageAsync(http, db, ConnectForm.Empty);

    public static async Task<IResult> RenderPageAsync(HttpContext http, XenoDb db, ConnectForm form)
    {
        var stores = await QueryAsync(db, http.User.UserId());
        // In demo mode, each account has a shop of its own to install.
        var demo = http.RequestServices.GetRequiredService<DemoShops>().For(http.User.UserId());
        var config = http.RequestServices.GetRequiredService<IConfiguration>();
        var canInstall = Install.CompleteInstall.RedirectUri(config) is not null && config["Shopify:ApiKey"] is { Length: > 0 };
        var clock = http.RequestServices.GetRequiredService<TimeProvider>();
        var headlines = new List<StoreHeadline>();
        foreach (var store in stores)
        {
            // Each store is its own tenant, so each gets a scope of its own (both walls stay up).
            await using var scope = http.RequestServices.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(store.Id);
            var today = MetricsRange.Today(store.Timezone, clock);
            var summary = await GetSummary.QueryAsync(scope.ServiceProvider.GetRequiredService<XenoDb>(),
                new MetricsRange(store.Id, store.Currency, store.Timezone, today.AddDays(-29), today), http.RequestAborted);
            headlines.Add(new StoreHeadline(StoreResponse.From(store), summary.Orders, summary.NetSales));
        }
        return StoresPage.Create(new StoresPageModel(http.User.Identity!.Name!, headlines, form, canInstall, demo));
    }
}

/// <summary>A store in the list, with its last 30 days' orders and net sales.</summary>
public sealed record StoreHeadline(StoreResponse Store, int Orders, decimal NetSales);

public sealed record StoresPageModel(string UserEmail, IReadOnlyList<StoreHeadline> Stores, ConnectForm Form, bool CanInstall, DemoShop? Demo);
