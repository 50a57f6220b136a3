using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;
using Xeno.Web.Infrastructure.Web;

namespace Xeno.Web.Features.Stores;

public sealed class StoresModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stores").WithTags("Stores").RequireApiToken();
        api.MapPost("", ConnectStore.HandleApiAsync)
            .Describe("ConnectStore", "Connects a shop with credentials the merchant has: an app's client id and secret, or a custom app's " +
                "Admin API access token (with its API secret for webhooks). Queues a sync.")
            .Answers<StoreResponse>(StatusCodes.Status201Created, "A new store, with the caller as its owner; Location names it.")
            .Answers<StoreResponse>(StatusCodes.Status200OK,
                "The caller already had this store: its credentials are replaced and it is active again, its data intact.")
            .AnswersProblem(StatusCodes.Status400BadRequest, "The body is missing or is not JSON.")
            .AnswersProblem(StatusCodes.Status409Conflict, "Another Xeno account has already connected this shop (ask one of its owners to add you).")
            .AnswersNonJsonBody()
            .AnswersProblem(StatusCodes.Status422UnprocessableEntity,
                "The domain is not name.myshopify.com; both credential forms or neither were given, or only one of clientId and " +
                "clientSecret; a credential is too long or has characters no Shopify credential has; Shopify does not know the shop or " +
                "refused the credentials; or the caller is a viewer of this store.")
            .AnswersProblem(StatusCodes.Status502BadGateway, "Xeno could not reach Shopify; try again in a minute.");
        api.MapGet("", ListStores.HandleApiAsync)
            .Describe("ListStores", "The stores the caller is a member of (owner or viewer), by name, then domain.")
            .Answers<StoreList>(StatusCodes.Status200OK, "The caller's stores.");
        var apiStore = api.MapGroup("/{storeId}").ForStoreTenant();
        apiStore.MapGet("", GetStore.HandleApiAsync)
            .Describe("GetStore", "One of the caller's stores.")
            .Answers<StoreResponse>(StatusCodes.Status200OK, "The store.");
        apiStore.MapDelete("", DeleteStore.HandleApiAsync).ForStoreOwners()
            .Describe("DeleteStore", "Deletes the store and all of its data (orders, customers, products, checkouts, syncs, webhooks, team) at once.")
            .AnswersNoContent("The store and its data are deleted.");

        var pages = app.MapGroup("/stores").RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck().ExcludeFromDescription();
        pages.MapGet("", ListStores.HandlePageAsync);
        pages.MapPost("", ConnectStore.HandlePageAsync);
        var page = pages.MapGroup("/{storeId}").ForStoreTenant();
        page.MapPost("/delete", DeleteStore.HandlePageAsync).ForStoreOwners();
    }
}
