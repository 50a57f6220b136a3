using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Auth;

public static class Logout
{
    /// <summary>Revokes every token of the user, on every device: the token version moves on.</summary>
    public static Task RevokeTokensAsync(XenoDb db, Guid userId) =>
        db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.TokenVersion, u => u.TokenVersion + 1));

    public static async Task<IResult> HandleApiAsync(HttpContext http, XenoDb db)
    {
        await RevokeTokensAsync(db, http.User.UserId());
        return TypedResults.NoContent();
    }

    public static IResult ShowPage(HttpContext http) => LogoutPage.Create(http.User.Identity?.Name);

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db)
    {
        if (http.User.Identity?.IsAuthenticated == true) await RevokeTokensAsync(db, http.User.UserId());
        Accounts.SignOutBrowser(http);
        return Results.Redirect("/login");
    }
}
