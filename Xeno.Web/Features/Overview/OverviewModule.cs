using Carter;
using Xeno.Web.Infrastructure.Auth;

namespace Xeno.Web.Features.Overview;

/// <summary>Every store of the account side by side: the landing page of accounts with more than one store.</summary>
public sealed class OverviewModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/overview", ShowOverview.HandlePageAsync).RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck()
            .ExcludeFromDescription();
}
