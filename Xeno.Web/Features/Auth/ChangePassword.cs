using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Auth;

public static class ChangePassword
{
    public sealed record Request(string? CurrentPassword, string? NewPassword);

    /// <returns>The user with the new password and token version, or an error message.</returns>
    public static async Task<(User? User, string? Error)> ExecuteAsync(XenoDb db, Guid userId, string? current, string? next)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId);
        if (user is null || !PasswordHasher.Verify(current ?? "", user.PasswordHash)) return (null, "The current password is wrong.");
        if (!PasswordHasher.IsAcceptable(next))
            return (null, $"The new password must be {PasswordHasher.MinLength} to {PasswordHasher.MaxLength} characters long.");
        user.PasswordHash = PasswordHasher.Hash(next!);
        user.TokenVersion++; // every token issued before the change stops working
        await db.SaveChangesAsync();
        return (user, null);
    }

    public static async Task<IResult> HandleApiAsync(Request request, HttpContext http, XenoDb db, JwtTokens tokens)
    {
        var (user, error) = await ExecuteAsync(db, http.User.UserId(), request.CurrentPassword, request.NewPassword);
        return user is null
            ? TypedResults.Problem(title: error, statusCode: StatusCodes.Status400BadRequest)
            : TypedResults.Ok(AuthResponse.From(user, tokens.Issue(user)));
    }

    public static IResult ShowPage(HttpContext http) => AccountPage.Create(new AccountPageModel(http.User.Identity!.Name!, null, null));

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, JwtTokens tokens)
    {
        var form = await http.Request.ReadFormAsync();
        var (user, error) = await ExecuteAsync(db, http.User.UserId(), form["currentPassword"], form["newPassword"]);
        if (user is null) return AccountPage.Create(new AccountPageModel(http.User.Identity!.Name!, error, null));
        // This browser stays signed in with a fresh token; every other session ends.
        Accounts.SignInBrowser(http, tokens.Issue(user));
        return AccountPage.Create(new AccountPageModel(user.Email, null, "Password changed. Other sessions have been logged out."));
    }
}

public sealed record AccountPageModel(string Email, string? Error, string? Message);
