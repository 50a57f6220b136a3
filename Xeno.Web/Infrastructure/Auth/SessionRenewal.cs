using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Auth;

/// <summary>Keeps an active browser session alive: a cookie token older than a quarter of its
/// lifetime is replaced by a fresh one, so a user at work is never logged out mid-task while a
/// stolen or idle token still dies within the hour. Renewals keep the sign-in time, and no session
/// outlives its absolute lifetime (<c>Jwt__SessionHours</c>, 12 hours) from the sign-in.</summary>
public static class SessionRenewal
{
    public static IApplicationBuilder UseSessionRenewal(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated == true
            && context.Request.Cookies.ContainsKey(AuthSetup.CookieName)
            && !context.Request.Headers.ContainsKey("Authorization")
            && long.TryParse(user.FindFirst(JwtRegisteredClaimNames.Iat)?.Value, out var issuedAt)
            && long.TryParse(user.FindFirst(JwtTokens.AuthTimeClaim)?.Value, out var signedIn))
        {
            var tokens = context.RequestServices.GetRequiredService<JwtTokens>();
            var clock = context.RequestServices.GetRequiredService<TimeProvider>();
            var age = clock.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(issuedAt);
            if (age > tokens.Lifetime / 4)
            {
                var db = context.RequestServices.GetRequiredService<XenoDb>();
                var userId = user.UserId();
                var current = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId);
                if (current is not null)
                {
                    var fresh = tokens.Issue(current, DateTimeOffset.FromUnixTimeSeconds(signedIn));
                    context.Response.Cookies.Append(AuthSetup.CookieName, fresh.Token, AuthSetup.AuthCookie(fresh.ExpiresAt));
                }
            }
        }
        await next(context);
    });
}
