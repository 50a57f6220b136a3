using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Install;

/// <summary>
/// <c>GET /stores/install?shop=</c>: sends the merchant to Shopify's authorize page for the shop. The <c>state</c> sent
/// along is single use, valid ten minutes, and bound to this browser (a nonce in an HttpOnly cookie) and to the
/// logged-in account, so a callback from anywhere else is refused.
/// </summary>
public static class StartInstall
{
    public const string BrowserCookie = "xeno_install";
    public static readonly TimeSpan StateLifetime = TimeSpan.FromMinutes(10);

    public static async Task<IResult> HandleAsync(string? shop, HttpContext http, XenoDb db, ShopifyOAuthClient oauth,
        IOptions<ShopifyOptions> options, IConfiguration config, TimeProvider clock, CancellationToken ct)
    {
        if (!ShopDomain.TryNormalize(shop, out var domain)) return InstallProblem.BadShop().ToResult(http);
        return await RedirectToShopifyAsync(http, http.User.UserId(), domain, db, oauth, options.Value, config, clock, ct);
    }

    public static async Task<IResult> RedirectToShopifyAsync(HttpContext http, Guid userId, string domain, XenoDb db,
        ShopifyOAuthClient oauth, ShopifyOptions options, IConfiguration config, TimeProvider clock, CancellationToken ct)
    {
        if (CompleteInstall.RedirectUri(config) is not { } redirectUri || string.IsNullOrEmpty(options.ApiKey) || string.IsNullOrEmpty(options.ApiSecret))
            return InstallProblem.NotConfigured().ToResult(http);

        // One nonce per browser, kept while installs are under way, so that two tabs can install two shops at once.
        var browser = http.Request.Cookies[BrowserCookie] is { Length: >= 32 and <= 100 } existing ? existing : NewSecret();
        var state = NewSecret();
        var now = clock.GetUtcNow();
        db.OAuthStates.Add(new OAuthState
        {
            Id = Guid.CreateVersion7(), StateHash = Hash(state), BrowserHash = Hash(browser), UserId = userId, ShopDomain = domain,
            CreatedAt = now, ExpiresAt = now + StateLifetime,
        });
        await db.SaveChangesAsync(ct);
        // Old states help nobody; the index on expires_at keeps this cheap.
        await db.OAuthStates.Where(s => s.ExpiresAt < now.AddDays(-1)).ExecuteDeleteAsync(ct);

        http.Response.Cookies.Append(BrowserCookie, browser, new CookieOptions
        {
            HttpOnly = true, Secure = true, SameSite = SameSiteMode.Lax, Path = CompleteInstall.Path, MaxAge = StateLifetime, IsEssential = true,
        });
        return Results.Redirect(oauth.AuthorizeUrl(domain, state, redirectUri).AbsoluteUri);
    }

    /// <summary>Only hashes are stored: a read of the table cannot complete anyone's install.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string NewSecret() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
}
