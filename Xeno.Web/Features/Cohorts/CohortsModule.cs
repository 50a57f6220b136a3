using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Cohorts;

/// <summary>The retention triangle of one store, for its members (anyone else: 404).</summary>
public sealed class CohortsModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGroup("/stores/{storeId}/cohorts").RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck()
            .ForStoreTenant().ExcludeFromDescription()
            .MapGet("", ShowCohorts.HandlePageAsync);
}
