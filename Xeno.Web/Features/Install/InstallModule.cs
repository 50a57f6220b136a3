using Carter;
using Xeno.Web.Infrastructure.Auth;

namespace Xeno.Web.Features.Install;

/// <summary>Installing Xeno from Shopify: the App URL Shopify opens, the start of an install, and its callback.</summary>
public sealed class InstallModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        // Shopify signs these requests (the query's HMAC). They are GETs: the antiforgery filter only hands out the
        // tokens the layout's forms need.
        var pages = app.MapGroup("").WithAntiforgeryCheck().ExcludeFromDescription();
        pages.MapGet("/shopify", OpenFromShopify.HandleAsync);
        pages.MapGet("/stores/install", StartInstall.HandleAsync).RequireAuthorization(AuthSetup.PagePolicy);
        pages.MapGet(CompleteInstall.Path, CompleteInstall.HandleAsync).RequireAuthorization(AuthSetup.PagePolicy);
    }
}
