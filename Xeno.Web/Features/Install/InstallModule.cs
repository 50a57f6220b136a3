using Carter;
using Xeno.Web.Infrastructure.Auth;

namespace Xeno.Web.Features.Install;

/// <summary>Installing Xeno from Shopify: the App URL Shopify opens, the start of an install, and its callback.</summary>
public sealed class InstallModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        // Shopify signs these requests (the query's HMAC); they are plain GETs, so antiforgery has nothing to check.
        app.MapGet("/shopify", OpenFromShopify.HandleAsync).ExcludeFromDescription();
        app.MapGet("/stores/install", StartInstall.HandleAsync).RequireAuthorization(AuthSetup.PagePolicy).ExcludeFromDescription();
        app.MapGet(CompleteInstall.Path, CompleteInstall.HandleAsync).RequireAuthorization(AuthSetup.PagePolicy).ExcludeFromDescription();
    }
}
