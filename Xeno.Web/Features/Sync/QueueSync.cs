using Hangfire;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Sync;

public static class QueueSync
{
    public sealed record Request(string? Mode);
    public sealed record Response(Guid RunId);

    /// <summary>Queues a sync of the tenant's store, or answers the one already queued or running:
    /// a unique index allows one active run per store, so two requests at once cannot start two.</summary>
    public static async Task<Guid> ExecuteAsync(XenoDb db, TenantContext tenant, IBackgroundJobClient jobs, TimeProvider clock, string mode, CancellationToken ct)
    {
        var storeId = tenant.TenantId!.Value;
        var active = await db.SyncRuns.Where(r => r.Status == "queued" || r.Status == "running").Select(r => (Guid?)r.Id).FirstOrDefaultAsync(ct);
        if (active is { } existing) return existing;

        var lastSuccess = await db.SyncRuns.Where(r => r.Status == "succeeded").OrderByDescending(r => r.StartedAt)
            .Select(r => r.StartedAt).FirstOrDefaultAsync(ct);
        var run = new SyncRun
        {
            Id = Guid.CreateVersion7(), Mode = mode, Status = "queued", QueuedAt = clock.GetUtcNow(),
            // An incremental run with nothing before it is a full one in all but name.
            UpdatedSince = mode == "incremental" ? lastSuccess : null,
        };
        db.SyncRuns.Add(run);
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return await db.SyncRuns.Where(r => r.Status == "queued" || r.Status == "running").Select(r => r.Id).FirstAsync(ct);
        }

        try { jobs.Enqueue<SyncJob>(job => job.RunAsync(storeId, run.Id, CancellationToken.None)); }
        catch
        {
            run.Status = "failed";
            run.Error = "The sync could not be queued. Try again.";
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        return run.Id;
    }

    public static async Task<IResult> HandleApiAsync(HttpRequest http, XenoDb db, TenantContext tenant, IBackgroundJobClient jobs, TimeProvider clock, CancellationToken ct)
    {
        var mode = "incremental";
        if (http.ContentLength is > 0 || http.Headers.ContentType.Count > 0)
        {
            Request? body;
            try { body = await http.ReadFromJsonAsync<Request>(ct); }
            catch (System.Text.Json.JsonException) { return TypedResults.Problem(title: "The body must be JSON: {\"mode\": \"incremental\" | \"full\"}.", statusCode: 400); }
            catch (InvalidOperationException) { return TypedResults.Problem(title: "The body must be JSON.", statusCode: 415); }
            mode = body?.Mode ?? "incremental";
        }
        if (mode is not ("incremental" or "full"))
            return TypedResults.Problem(title: "mode must be \"incremental\" or \"full\".", statusCode: StatusCodes.Status400BadRequest);
        return TypedResults.Accepted((string?)null, new Response(await ExecuteAsync(db, tenant, jobs, clock, mode, ct)));
    }

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, TenantContext tenant, IBackgroundJobClient jobs, TimeProvider clock, CancellationToken ct)
    {
        await ExecuteAsync(db, tenant, jobs, clock, "incremental", ct);
        return await GetSyncStatus.HandleTileAsync(http, db, tenant, ct);
    }
}
