using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Team;

/// <summary>An owner removes a member, or a member leaves. The account loses the store at its next request (every
/// request checks membership), and the store always keeps an owner.</summary>
public static class RemoveMember
{
    public enum Outcome { Removed, NotAMember, NotAllowed, LastOwner }

    public static async Task<Outcome> ExecuteAsync(XenoDb db, Guid storeId, Guid callerId, string? callerRole, Guid userId, CancellationToken ct)
    {
        if (userId != callerId && callerRole != MemberRoles.Owner) return Outcome.NotAllowed;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var members = await MemberLocks.LockAsync(db, storeId, ct);
        var member = members.FirstOrDefault(m => m.UserId == userId);
        if (member is null) return Outcome.NotAMember;
        if (member.Role == MemberRoles.Owner && members.Count(m => m.Role == MemberRoles.Owner) == 1) return Outcome.LastOwner;
        db.StoreMembers.Remove(member);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return Outcome.Removed;
    }

    public static async Task<IResult> HandleApiAsync(Guid userId, HttpContext http, XenoDb db, TenantContext tenant, ILogger<TeamModule> logger,
        CancellationToken ct)
    {
        var storeId = tenant.TenantId!.Value;
        var outcome = await ExecuteAsync(db, storeId, http.User.UserId(), http.MemberRole(), userId, ct);
        if (outcome == Outcome.Removed) logger.LogInformation("Store {StoreId}: account {UserId} removed", storeId, userId);
        return outcome switch
        {
            Outcome.Removed => TypedResults.NoContent(),
            Outcome.NotAMember => TypedResults.Problem(title: "This account is not a member of the store.", statusCode: StatusCodes.Status404NotFound),
            Outcome.NotAllowed => TypedResults.Problem(title: "Owners only.", detail: StoreOwnerFilter.Refusal, statusCode: StatusCodes.Status403Forbidden),
            _ => TypedResults.Problem(title: AddMember.LastOwnerMessage, statusCode: StatusCodes.Status409Conflict),
        };
    }

    public static async Task<IResult> HandlePageAsync(Guid userId, HttpContext http, XenoDb db, TenantContext tenant, ILogger<TeamModule> logger,
        CancellationToken ct)
    {
        var storeId = tenant.TenantId!.Value;
        var self = userId == http.User.UserId();
        var outcome = await ExecuteAsync(db, storeId, http.User.UserId(), http.MemberRole(), userId, ct);
        switch (outcome)
        {
            case Outcome.Removed:
                logger.LogInformation("Store {StoreId}: account {UserId} removed", storeId, userId);
                // Who left has nothing more to see here.
                return self ? Results.Redirect("/stores") : await ListMembers.RenderAsync(http, db, tenant, "Removed.", null, StatusCodes.Status200OK, ct);
            case Outcome.NotAllowed:
                return await ListMembers.RenderAsync(http, db, tenant, null, TeamForm.Empty with { Error = StoreOwnerFilter.Refusal },
                    StatusCodes.Status403Forbidden, ct);
            case Outcome.NotAMember:
                return await ListMembers.RenderAsync(http, db, tenant, null, TeamForm.Empty with { Error = "This account is not a member of the store." },
                    StatusCodes.Status404NotFound, ct);
            default:
                return await ListMembers.RenderAsync(http, db, tenant, null, TeamForm.Empty with { Error = AddMember.LastOwnerMessage },
                    StatusCodes.Status409Conflict, ct);
        }
    }
}

/// <summary>The store's member rows, locked for the transaction: two owners demoting or removing each other at once
/// must not leave the store with none.</summary>
internal static class MemberLocks
{
    public static Task<List<StoreMember>> LockAsync(XenoDb db, Guid storeId, CancellationToken ct) =>
        db.StoreMembers.FromSqlInterpolated($"SELECT * FROM store_members WHERE store_id = {storeId} FOR UPDATE").ToListAsync(ct);
}
