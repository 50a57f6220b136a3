using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Auth;

public static class ChangePassword
{
    public sealed record Request(string? CurrentPassword, string? NewPassword);

    /// <returns>The user with the new password and token version, or an error message.</returns>
    public static async Task<(User? User, string? Error)> ExecuteAsync(SecretsDb db, TimeProvider clock, Guid userId, string? current, string? next)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId);
        var password = await db.UserPasswords.FirstOrDefaultAsync(p => p.UserId == userId);
        if (user is null || password is null || !PasswordHasher.Verify(current ?? "", password.Hash)) return (null, "The current password is wrong.");
        if (!PasswordHasher.IsAcceptable(next))
            return (null, $"The new password must be {PasswordHasher.MinLength} to {PasswordHasher.MaxLength} characters long.");
        password.Hash = PasswordHasher.Hash(next!);
        password.ChangedAt = clock.GetUtcNow();
        user.TokenVersion++; // every token issued before the change stops working
        await db.SaveChangesAsync();
        return (user, null);
    }

    public static async Task<IResult> HandleApiAsync(Request request, HttpContext http, SecretsDb db, TimeProvider clock, JwtTokens tokens)
    {
        var (user, error) = await ExecuteAsync(db, clock, http.User.UserId(), request.CurrentPassword, request.NewPassword);
        return user is null
            ? TypedResults.Problem(title: error, statusCode: StatusCodes.Status400BadRequest)
            : TypedResults.Ok(AuthResponse.From(user, tokens.Issue(user)));
    }

    public static IResult ShowPage(HttpContext http) => AccountPage.Create(new AccountPageModel(http.User.Identity!.Name!, null, null));

    public static async Task<IResult> HandlePageAsync(HttpContext http, SecretsDb db, TimeProvider clock, JwtTokens tokens)
    {
        var form = await http.Request.ReadFormAsync();
        var (user, error) = await ExecuteAsync(db, clock, http.User.UserId(), form["currentPassword"], form["newPassword"]);
        if (user is null) return AccountPage.Create(new AccountPageModel(http.User.Identity!.Name!, error, null));
        // This browser stays signed in with a fresh token; every other session ends.
        Accounts.SignInBrowser(http, tokens.Issue(user));
        return AccountPage.Create(new AccountPageModel(user.Email, null, "Password changed. Other sessions have been logged out."));
    }
}

public sealed record AccountPageModel(string Email, string? Error, string? Message);
