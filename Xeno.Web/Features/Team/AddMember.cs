using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Team;

/// <summary>
/// An owner gives another Xeno account access to the store, or changes the role of one that has it. Only an existing
/// account can be added: an invitation waiting for an address to register would go to whoever registers it first, and
/// Xeno does not verify addresses.
/// </summary>
public static class AddMember
{
    public sealed record Request(string? Email, string? Role);

    public abstract record Outcome
    {
        public sealed record Added(ListMembers.Member Member) : Outcome;
        public sealed record Changed(ListMembers.Member Member) : Outcome;
        public sealed record Invalid(string Message) : Outcome;
        public sealed record NoAccount : Outcome;
        public sealed record LastOwner : Outcome;
    }

    public const string NoAccountMessage = "No Xeno account uses this email. Ask them to register first, then add them.";
    public const string LastOwnerMessage = "A store keeps at least one owner: make someone else an owner first.";

    public static async Task<Outcome> ExecuteAsync(XenoDb db, Guid storeId, string? emailInput, string? roleInput, TimeProvider clock, CancellationToken ct)
    {
        var email = Accounts.NormalizeEmail(emailInput ?? "");
        if (!Accounts.IsValidEmail(email)) return new Outcome.Invalid("Enter a valid email address.");
        var role = (roleInput ?? MemberRoles.Viewer).Trim().ToLowerInvariant();
        if (!MemberRoles.IsValid(role)) return new Outcome.Invalid("The role is either viewer or owner.");

        var user = await db.Users.AsNoTracking().Where(u => u.Email == email).Select(u => new { u.Id, u.Email }).FirstOrDefaultAsync(ct);
        if (user is null) return new Outcome.NoAccount();

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var members = await MemberLocks.LockAsync(db, storeId, ct);
        var member = members.FirstOrDefault(m => m.UserId == user.Id);
        if (member is not null)
        {
            if (member.Role == MemberRoles.Owner && role != MemberRoles.Owner && members.Count(m => m.Role == MemberRoles.Owner) == 1)
                return new Outcome.LastOwner();
            member.Role = role;
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return new Outcome.Changed(new ListMembers.Member(user.Id, user.Email, role, member.AddedAt));
        }
        var added = new StoreMember { StoreId = storeId, UserId = user.Id, Role = role, AddedAt = clock.GetUtcNow() };
        db.StoreMembers.Add(added);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return new Outcome.Added(new ListMembers.Member(user.Id, user.Email, role, added.AddedAt));
    }

    public static async Task<IResult> HandleApiAsync(Request request, XenoDb db, TenantContext tenant, TimeProvider clock, ILogger<TeamModule> logger,
        CancellationToken ct)
    {
        var storeId = tenant.TenantId!.Value;
        switch (await ExecuteAsync(db, storeId, request.Email, request.Role, clock, ct))
        {
            case Outcome.Added a:
                logger.LogInformation("Store {StoreId}: account {UserId} added as {Role}", storeId, a.Member.UserId, a.Member.Role);
                return TypedResults.Created($"/api/v1/stores/{storeId}/members/{a.Member.UserId}", a.Member);
            case Outcome.Changed c:
                logger.LogInformation("Store {StoreId}: account {UserId} is now {Role}", storeId, c.Member.UserId, c.Member.Role);
                return TypedResults.Ok(c.Member);
            case Outcome.Invalid i:
                return TypedResults.Problem(title: i.Message, statusCode: StatusCodes.Status400BadRequest);
            case Outcome.NoAccount:
                return TypedResults.Problem(title: NoAccountMessage, statusCode: StatusCodes.Status404NotFound);
            default:
                return TypedResults.Problem(title: LastOwnerMessage, statusCode: StatusCodes.Status409Conflict);
        }
    }

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, TenantContext tenant, TimeProvider clock,
        ILogger<TeamModule> logger, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var email = form["email"].ToString();
        var role = form["role"].ToString();
        var storeId = tenant.TenantId!.Value;
        var outcome = await ExecuteAsync(db, storeId, email, role, clock, ct);
        if (outcome is Outcome.Added or Outcome.Changed)
        {
            var member = outcome is Outcome.Added a ? a.Member : ((Outcome.Changed)outcome).Member;
            logger.LogInformation("Store {StoreId}: account {UserId} is {Role}", storeId, member.UserId, member.Role);
            var notice = outcome is Outcome.Added
                ? $"{member.Email} can now open this store as {Article(member.Role)}."
                : $"{member.Email} is now {Article(member.Role)} of this store.";
            return await ListMembers.RenderAsync(http, db, tenant, notice, null, StatusCodes.Status200OK, ct);
        }
        var (message, status) = outcome switch
        {
            Outcome.Invalid i => (i.Message, StatusCodes.Status400BadRequest),
            Outcome.NoAccount => (NoAccountMessage, StatusCodes.Status404NotFound),
            _ => (LastOwnerMessage, StatusCodes.Status409Conflict),
        };
        return await ListMembers.RenderAsync(http, db, tenant, null, new TeamForm(email, role, message), status, ct);
    }

    private static string Article(string role) => role == MemberRoles.Owner ? "an owner" : "a viewer";
}
