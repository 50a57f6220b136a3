using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;
using Xeno.Web.Infrastructure.Web;

namespace Xeno.Web.Features.Team;

/// <summary>Who may open a store: its owners invite other Xeno accounts as viewers or owners, and remove them.</summary>
public sealed class TeamModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stores/{storeId}/members").WithTags("Team").RequireApiToken().ForStoreTenant();
        api.MapGet("", ListMembers.HandleApiAsync)
            .Describe("ListMembers", "The store's members and their roles (owner or viewer), owners first, then by email.")
            .Answers<ListMembers.Response>(StatusCodes.Status200OK, "The members.");
        api.MapPost("", AddMember.HandleApiAsync).ForStoreOwners()
            .Describe("AddMember", "Gives an existing Xeno account access to the store as a viewer (the default) or an owner, or changes the " +
                "role of a member.")
            .Answers<ListMembers.Member>(StatusCodes.Status201Created, "The account is now a member.")
            .Answers<ListMembers.Member>(StatusCodes.Status200OK, "The account was already a member: its role is now the one asked for.")
            .AnswersProblem(StatusCodes.Status400BadRequest, "The email is not valid, role is neither viewer nor owner, or the body is not JSON.")
            .AnswersProblem(StatusCodes.Status404NotFound,
                "No Xeno account uses this email (ask them to register first), or the store is not one of the caller's.")
            .AnswersProblem(StatusCodes.Status409Conflict, "This would demote the store's last owner.")
            .AnswersNonJsonBody();
        // Owners remove anyone; any member may remove itself (leave). RemoveMember checks which.
        api.MapDelete("/{userId:guid}", RemoveMember.HandleApiAsync)
            .Describe("RemoveMember", "Removes a member (owners remove anyone), or leaves the store (any member removing itself).")
            .DescribeParameter("userId", "The member's account id (userId in the list of members); the caller's own to leave.")
            .AnswersNoContent("Removed: the account loses the store at its next request.")
            .AnswersProblem(StatusCodes.Status403Forbidden, "A viewer tried to remove someone else.")
            .AnswersProblem(StatusCodes.Status404NotFound, "That account is not a member of the store, or the store is not one of the caller's.")
            .AnswersProblem(StatusCodes.Status409Conflict, "That account is the store's last owner.");

        var page = app.MapGroup("/stores/{storeId}/team").RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck()
            .ForStoreTenant().ExcludeFromDescription();
        page.MapGet("", ListMembers.HandlePageAsync);
        page.MapPost("", AddMember.HandlePageAsync).ForStoreOwners();
        page.MapPost("/{userId:guid}/remove", RemoveMember.HandlePageAsync);
    }
}
