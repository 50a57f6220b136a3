using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Webhooks;

public sealed class WebhooksModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        // Shopify signs its requests; the HMAC is the credential, so there is no session and no antiforgery here.
        app.MapPost("/webhooks/shopify", ReceiveWebhook.HandleAsync).ExcludeFromDescription();

        var settings = app.MapGroup("/stores/{storeId}/settings").RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck()
            .ForStoreTenant().ForStoreOwners().ExcludeFromDescription();
        settings.MapGet("", GetSettings.HandlePageAsync);
        settings.MapPost("/webhooks", GetSettings.RepairAsync);
        settings.MapGet("/data-requests/{requestId:guid}", GetSettings.DownloadDataRequestAsync);
    }
}
