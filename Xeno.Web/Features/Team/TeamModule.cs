using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Team;

/// <summary>Who may open a store: its owners invite other Xeno accounts as viewers or owners, and remove them.</summary>
public sealed class TeamModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stores/{storeId}/members").WithTags("Team").RequireAuthorization(AuthSetup.ApiPolicy).ForStoreTenant();
        api.MapGet("", ListMembers.HandleApiAsync);
        api.MapPost("", AddMember.HandleApiAsync).ForStoreOwners();
        // Owners remove anyone; any member may remove itself (leave). RemoveMember checks which.
        api.MapDelete("/{userId:guid}", RemoveMember.HandleApiAsync);

        var page = app.MapGroup("/stores/{storeId}/team").RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck()
            .ForStoreTenant().ExcludeFromDescription();
        page.MapGet("", ListMembers.HandlePageAsync);
        page.MapPost("", AddMember.HandlePageAsync).ForStoreOwners();
        page.MapPost("/{userId:guid}/remove", RemoveMember.HandlePageAsync);
    }
}
