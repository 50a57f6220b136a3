using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Dashboard;

public sealed class DashboardModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var page = app.MapGroup("/stores/{storeId}").RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck()
            .ForStoreTenant().ExcludeFromDescription();
        page.MapGet("", ShowDashboard.HandlePageAsync);
        page.MapGet("/tiles/{name}", ShowDashboard.HandleTileAsync);
    }
}
