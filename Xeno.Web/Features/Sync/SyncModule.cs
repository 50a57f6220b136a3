using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Sync;

public sealed class SyncModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stores/{storeId}/sync").WithTags("Sync").RequireAuthorization(AuthSetup.ApiPolicy).ForStoreTenant();
        api.MapPost("", QueueSync.HandleApiAsync);
        api.MapGet("", GetSyncStatus.HandleApiAsync);

        var page = app.MapGroup("/stores/{storeId}/sync").RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck()
            .ForStoreTenant().ExcludeFromDescription();
        page.MapGet("", GetSyncStatus.HandleTileAsync);
        page.MapPost("", QueueSync.HandlePageAsync);
    }
}
