using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Auth;

public sealed class JwtOptions
{
    public string? SigningKey { get; set; }
    public string Issuer { get; set; } = "xeno";
    public string Audience { get; set; } = "xeno";
    public int LifetimeMinutes { get; set; } = 60;
    /// <summary>How long a browser session may be renewed for, from the sign-in, before it has to sign in again.</summary>
    public int SessionHours { get; set; } = 12;
}

public sealed record IssuedToken(string Token, DateTimeOffset ExpiresAt);

/// <summary>Issues and describes Xeno's access tokens: HS256, at most an hour, carrying the user's
/// token version so that logout and a password change revoke every earlier token.</summary>
public sealed class JwtTokens(IOptions<JwtOptions> options, TimeProvider clock)
{
    public const string VersionClaim = "ver";
    /// <summary>When the user signed in (OIDC's auth_time): carried through every renewal, it bounds the session.</summary>
    public const string AuthTimeClaim = "auth_time";
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    private readonly Lazy<SymmetricSecurityKey> _key = new(() => CreateKey(options.Value));

    public TimeSpan Lifetime => TimeSpan.FromMinutes(Math.Clamp(options.Value.LifetimeMinutes, 1, 60));

    public TimeSpan SessionLifetime => TimeSpan.FromHours(Math.Clamp(options.Value.SessionHours, 1, 24 * 30));

    /// <summary>Whether a token of a sign-in at <paramref name="authTime"/> (unix seconds) is past the session's absolute lifetime.</summary>
    public bool IsSessionOver(long authTime) => clock.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(authTime) > SessionLifetime;

    /// <param name="signedInAt">The sign-in this token renews (null: a new sign-in, now).</param>
    public IssuedToken Issue(User user, DateTimeOffset? signedInAt = null)
    {
        var now = clock.GetUtcNow();
        var expires = now + Lifetime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(_key.Value, SecurityAlgorithms.HmacSha256),
            Subject = new ClaimsIdentity([
                new Claim(JwtRegisteredClaimNames.Sub, user.Id.ToString()),
                new Claim(JwtRegisteredClaimNames.Email, user.Email),
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
                new Claim(VersionClaim, user.TokenVersion.ToString(), ClaimValueTypes.Integer32),
                new Claim(AuthTimeClaim, (signedInAt ?? now).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), ClaimValueTypes.Integer64),
            ]),
        };
        return new IssuedToken(new JsonWebTokenHandler().CreateToken(descriptor), expires);
    }

    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = options.Value.Issuer,
        ValidAudience = options.Value.Audience,
        IssuerSigningKey = _key.Value,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        RequireExpirationTime = true,
        ClockSkew = ClockSkew,
        NameClaimType = JwtRegisteredClaimNames.Email,
    };

    private static SymmetricSecurityKey CreateKey(JwtOptions options)
    {
        var configured = options.SigningKey;
        var keyText = string.IsNullOrWhiteSpace(configured) ? DatabaseSetup.Secrets.JwtSigningKey : configured;
        byte[] key;
        try { key = Convert.FromBase64String(keyText); }
        catch (FormatException) { throw new InvalidOperationException("Jwt__SigningKey must be base64."); }
        if (key.Length < 32) throw new InvalidOperationException("Jwt__SigningKey must hold at least 256 bits (32 bytes).");
        return new SymmetricSecurityKey(key);
    }
}

public static class ClaimsPrincipalExtensions
{
    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? throw new InvalidOperationException("No user id in the principal."));
}
