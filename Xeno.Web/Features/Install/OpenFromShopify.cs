using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Install;

/// <summary>
/// <c>GET /shopify</c>, the App URL Shopify opens when a merchant installs Xeno from the Shopify admin or the App Store.
/// Signed by Shopify; a logged-in merchant goes straight on to the install, anyone else logs in (or registers) first and
/// comes back here.
/// </summary>
public static class OpenFromShopify
{
    public static async Task<IResult> HandleAsync(HttpContext http, XenoDb db, ShopifyOAuthClient oauth, IOptions<ShopifyOptions> options,
        IConfiguration config, TimeProvider clock, CancellationToken ct)
    {
        var query = CompleteInstall.SinglePairs(http.Request.Query);
        if (query is null || !CompleteInstall.IsSignedByShopify(query, options.Value, clock))
            return InstallProblem.NotFromShopify().ToResult(http);
        if (!ShopDomain.TryNormalize(http.Request.Query["shop"], out var domain))
            return InstallProblem.BadShop().ToResult(http);

        var session = await http.AuthenticateAsync(AuthSetup.CookieScheme);
        if (!session.Succeeded)
            return Results.Redirect("/login?returnUrl=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
        http.User = session.Principal;
        return await StartInstall.RedirectToShopifyAsync(http, session.Principal.UserId(), domain, db, oauth, options.Value, config, clock, ct);
    }
}
