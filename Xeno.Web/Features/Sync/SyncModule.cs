using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;
using Xeno.Web.Infrastructure.Web;

namespace Xeno.Web.Features.Sync;

public sealed class SyncModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stores/{storeId}/sync").WithTags("Sync").RequireApiToken().ForStoreTenant();
        api.MapPost("", QueueSync.HandleApiAsync)
            .Describe("QueueSync", "Queues a sync of the store (incremental unless the body asks for full), or answers the one already queued or running.")
            // The handler reads the body itself (none at all is incremental), so the framework cannot see it.
            .Accepts<QueueSync.Request>(isOptional: true, "application/json")
            .Answers<QueueSync.Response>(StatusCodes.Status202Accepted, "Queued: the sync's runId, or that of the sync already queued or running.")
            .AnswersProblem(StatusCodes.Status400BadRequest, "mode is neither incremental nor full, or the body is not JSON.")
            .AnswersProblem(StatusCodes.Status415UnsupportedMediaType, "A body whose Content-Type is not application/json.");
        api.MapGet("", GetSyncStatus.HandleApiAsync)
            .Describe("GetSyncStatus", "The store's sync state, its latest sync and what Xeno holds for the store now.")
            .Answers<GetSyncStatus.Response>(StatusCodes.Status200OK,
                "state is idle, queued, running or failed; lastRun is null before the first sync; totals count what Xeno holds now.");

        var page = app.MapGroup("/stores/{storeId}/sync").RequireAuthorization(AuthSetup.PagePolicy).WithAntiforgeryCheck()
            .ForStoreTenant().ExcludeFromDescription();
        page.MapGet("", GetSyncStatus.HandleTileAsync);
        page.MapPost("", QueueSync.HandlePageAsync);
    }
}
