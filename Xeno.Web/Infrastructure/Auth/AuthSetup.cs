using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Auth;

/// <summary>
/// One kind of token, two ways in. The JSON API reads it only from the Authorization header, so a
/// browser's ambient cookie can never call the API (no CSRF there). Pages read it only from an
/// HttpOnly cookie and are guarded by antiforgery tokens.
/// </summary>
public static class AuthSetup
{
    public const string ApiScheme = "Bearer";
    public const string CookieScheme = "Cookie";
    public const string CookieName = "xeno_auth";
    public const string ApiPolicy = "api";
    public const string PagePolicy = "pages";

    public static WebApplicationBuilder AddXenoAuth(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<JwtOptions>(builder.Configuration.GetSection("Jwt"));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<JwtTokens>();
        builder.Services.AddScoped<LoginThrottling>();
        builder.Services.AddSingleton<IConfigureOptions<JwtBearerOptions>, ConfigureJwtBearer>();

        builder.Services.AddAuthentication(ApiScheme)
            .AddJwtBearer(ApiScheme, _ => { })
            .AddJwtBearer(CookieScheme, _ => { });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicy, p => p.AddAuthenticationSchemes(ApiScheme).RequireAuthenticatedUser())
            .AddPolicy(PagePolicy, p => p.AddAuthenticationSchemes(CookieScheme).RequireAuthenticatedUser());
        builder.Services.AddAntiforgery(o =>
        {
            o.HeaderName = "RequestVerificationToken";
            o.Cookie.Name = "xeno_af";
        });
        return builder;
    }

    public static CookieOptions AuthCookie(DateTimeOffset expires) => new()
    {
        HttpOnly = true,
        Secure = true,
        SameSite = SameSiteMode.Lax,
        Path = "/",
        Expires = expires,
        IsEssential = true,
    };

    private sealed class ConfigureJwtBearer(JwtTokens tokens) : IConfigureNamedOptions<JwtBearerOptions>
    {
        public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

        public void Configure(string? name, JwtBearerOptions options)
        {
            options.MapInboundClaims = false;
            options.TokenValidationParameters = tokens.ValidationParameters();
            var isCookie = name == CookieScheme;
            options.Events = new JwtBearerEvents
            {
                OnMessageReceived = context =>
                {
                    // Each scheme reads only its own place, so neither credential works on the other's routes. Without a
                    // cookie the cookie scheme stops here: left alone, the handler would read the Authorization header.
                    if (isCookie)
                    {
                        if (context.Request.Cookies[CookieName] is { Length: > 0 } cookie) context.Token = cookie;
                        else context.NoResult();
                    }
                    else if (!context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                        context.NoResult();
                    return Task.CompletedTask;
                },
                OnTokenValidated = async context =>
                {
                    var sub = context.Principal?.FindFirst(JwtRegisteredClaimNames.Sub)?.Value;
                    var version = context.Principal?.FindFirst(JwtTokens.VersionClaim)?.Value;
                    var db = context.HttpContext.RequestServices.GetRequiredService<XenoDb>();
                    var authTime = context.Principal?.FindFirst(JwtTokens.AuthTimeClaim)?.Value;
                    var valid = Guid.TryParse(sub, out var userId) && int.TryParse(version, out var v)
                        && long.TryParse(authTime, out var signedIn) && !tokens.IsSessionOver(signedIn)
                        && await db.Users.AnyAsync(u => u.Id == userId && u.TokenVersion == v);
                    if (!valid) context.Fail("The token was revoked, or its session is over.");
                },
                OnChallenge = context =>
                {
                    if (!isCookie) return Task.CompletedTask;
                    // A page asked without a session goes to the login page, coming back afterwards.
                    context.HandleResponse();
                    var returnUrl = context.Request.PathBase + context.Request.Path + context.Request.QueryString;
                    var login = "/login?returnUrl=" + Uri.EscapeDataString(returnUrl);
                    if (context.Request.Headers.ContainsKey("HX-Request"))
                    {
                        context.Response.StatusCode = StatusCodes.Status200OK;
                        context.Response.Headers["HX-Redirect"] = login;
                    }
                    else context.Response.Redirect(login);
                    return Task.CompletedTask;
                },
            };
        }
    }
}
