using Carter;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Health;

public sealed class HealthModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("").ExcludeFromDescription();
        health.MapGet("/healthz", () => TypedResults.Text("ok"));
        health.MapGet("/readyz", ReadyAsync);
    }

    /// <summary>Ready when the database answers the app role and every migration is applied:
    /// what a load balancer needs before it sends traffic here.</summary>
    private static async Task<IResult> ReadyAsync(XenoDb db, DatabaseConnections connections, CancellationToken ct)
    {
        if (!connections.Ready) return TypedResults.Text("migrations pending", statusCode: StatusCodes.Status503ServiceUnavailable);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            return await db.Database.CanConnectAsync(timeout.Token)
                ? TypedResults.Text("ready")
                : TypedResults.Text("database unreachable", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (OperationCanceledException)
        {
            return TypedResults.Text("database unreachable", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
