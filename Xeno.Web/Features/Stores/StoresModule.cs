using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Stores;

public sealed class StoresModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stores").WithTags("Stores").RequireAuthorization(AuthSetup.ApiPolicy);
        api.MapPost("", ConnectStore.HandleApiAsync);
        api.MapGet("", ListStores.HandleApiAsync);
        var apiStore = api.MapGroup("/{storeId}").ForStoreTenant();
        apiStore.MapGet("", GetStore.HandleApiAsync);
        apiStore.MapDelete("", DeleteStore.HandleApiAsync).ForStoreOwners();

        var pages = app.MapGroup("/stores").RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck().ExcludeFromDescription();
        pages.MapGet("", ListStores.HandlePageAsync);
        pages.MapPost("", ConnectStore.HandlePageAsync);
        var page = pages.MapGroup("/{storeId}").ForStoreTenant();
        page.MapPost("/delete", DeleteStore.HandlePageAsync).ForStoreOwners();
    }
}
