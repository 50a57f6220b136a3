using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Team;

public static class ListMembers
{
    public sealed record Member(Guid UserId, string Email, string Role, DateTimeOffset AddedAt);
    public sealed record Response(IReadOnlyList<Member> Members);

    public static Task<List<Member>> QueryAsync(XenoDb db, Guid storeId, CancellationToken ct) =>
        db.StoreMembers.AsNoTracking().Where(m => m.StoreId == storeId)
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => new { m, u })
            .OrderBy(x => x.m.Role == MemberRoles.Owner ? 0 : 1).ThenBy(x => x.u.Email)
            .Select(x => new Member(x.u.Id, x.u.Email, x.m.Role, x.m.AddedAt))
            .ToListAsync(ct);

    public static async Task<IResult> HandleApiAsync(XenoDb db, TenantContext tenant, CancellationToken ct) =>
        TypedResults.Ok(new Response(await QueryAsync(db, tenant.TenantId!.Value, ct)));

    public static Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, TenantContext tenant, CancellationToken ct) =>
        RenderAsync(http, db, tenant, null, null, StatusCodes.Status200OK, ct);

    /// <summary>The team page, with what the last form did (a notice) or why it was refused (an error, with the input kept).</summary>
    public static async Task<IResult> RenderAsync(HttpContext http, XenoDb db, TenantContext tenant, string? notice, TeamForm? refused,
        int status, CancellationToken ct)
    {
        var store = await GetStore.QueryAsync(db, tenant);
        var members = await QueryAsync(db, store.Id, ct);
        var model = new TeamPageModel(http.User.Identity!.Name!, http.User.UserId(), StoreResponse.From(store),
            http.MemberRole() == MemberRoles.Owner, members, notice, refused ?? TeamForm.Empty);
        return Results.RazorSlice<TeamPage, TeamPageModel>(model, status);
    }
}

public sealed record TeamForm(string Email, string Role, string? Error)
{
    public static readonly TeamForm Empty = new("", MemberRoles.Viewer, null);
}

public sealed record TeamPageModel(string UserEmail, Guid UserId, StoreResponse Store, bool IsOwner,
    IReadOnlyList<ListMembers.Member> Members, string? Notice, TeamForm Form);
