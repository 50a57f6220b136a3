using System.Net.Mail;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Auth;

public sealed record AuthRequest(string? Email, string? Password);
public sealed record AuthUser(Guid Id, string Email);
public sealed record AuthResponse(string Token, string TokenType, DateTimeOffset ExpiresAt, AuthUser User)
{
    public static AuthResponse From(User user, IssuedToken token) => new(token.Token, "Bearer", token.ExpiresAt, new AuthUser(user.Id, user.Email));
}

/// <summary>What registration and login share between the API and the pages.</summary>
public static class Accounts
{
    public static string NormalizeEmail(string? email) => (email ?? "").Trim().ToLowerInvariant();

    public static bool IsValidEmail(string email) =>
        email.Length is > 2 and <= 320 && !email.Any(char.IsWhiteSpace)
        && MailAddress.TryCreate(email, out var parsed) && parsed.Address == email && email.IndexOf('@') > 0;

    /// <summary>The client a login attempt is counted against: the remote address (behind a proxy,
    /// the forwarded-headers middleware has already put the real one there).</summary>
    public static string ClientKey(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static void SignInBrowser(HttpContext http, IssuedToken token) =>
        http.Response.Cookies.Append(AuthSetup.CookieName, token.Token, AuthSetup.AuthCookie(token.ExpiresAt));

    public static void SignOutBrowser(HttpContext http) =>
        http.Response.Cookies.Delete(AuthSetup.CookieName, AuthSetup.AuthCookie(DateTimeOffset.UnixEpoch));

    /// <summary>Makes sure the account exists with this password, made here when new; every earlier session of it ends.
    /// For accounts set up from the server's side (the demo account, an operator), never from a request.</summary>
    public static async Task<User> SetPasswordAsync(SecretsDb db, TimeProvider clock, string email, string password, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        email = NormalizeEmail(email);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Email == email, ct);
        if (user is null)
        {
            user = new User { Id = Guid.CreateVersion7(), Email = email, CreatedAt = now };
            db.Users.Add(user);
        }
        var stored = await db.UserPasswords.FirstOrDefaultAsync(p => p.UserId == user.Id, ct);
        if (stored is null) db.UserPasswords.Add(stored = new UserPassword { UserId = user.Id, Hash = "" });
        stored.Hash = PasswordHasher.Hash(password);
        stored.ChangedAt = now;
        user.TokenVersion++;
        await db.SaveChangesAsync(ct);
        return user;
    }
}
