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
}

public sealed record IssuedToken(string Token, DateTimeOffset ExpiresAt);

/// <summary>Issues and describes Xeno's access tokens: HS256, at most an hour, carrying the user's
/// token version so that logout and a password change revoke every earlier token.</summary>
public sealed class JwtTokens(IOptions<JwtOptions> options, TimeProvider clock)
{
    public const string VersionClaim = "ver";
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    private readonly Lazy<SymmetricSecurityKey> _key = new(() => CreateKey(options.Value));

    public TimeSpan Lifetime => TimeSpan.FromMinutes(Math.Clamp(options.Value.LifetimeMinutes, 1, 60));

    public IssuedToken Issue(User user)
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
