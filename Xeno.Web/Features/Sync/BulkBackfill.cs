using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Sync;

/// <summary>
/// A full sync's backfill through Shopify's bulk operations, which carry no cost limit: one operation per kind of data,
/// all started at once (Shopify runs up to five per app and shop), each polled until its file is ready, then streamed
/// into the store (<see cref="BulkFileLoader"/>). Every step is recorded (<see cref="SyncBulkFile"/>), so a restarted
/// worker goes on where the last one stopped. A kind whose operation fails, or whose file expires, is paged instead.
/// </summary>
public sealed class BulkBackfill(ShopifyCredentials shopify, BulkFileLoader loader, ILogger<BulkBackfill> logger)
{
    /// <summary>The first wait between polls, growing by half each time up to <see cref="LongestPoll"/>.</summary>
    public TimeSpan FirstPoll { get; set; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan LongestPoll { get; set; } = TimeSpan.FromSeconds(10);

    /// <returns>The kinds bulk could not bring, to be paged.</returns>
    public async Task<List<string>> RunAsync(XenoDb db, SyncRun run, CancellationToken ct)
    {
        var files = await db.SyncBulkFiles.Where(f => f.RunId == run.Id).ToDictionaryAsync(f => f.Kind, ct);
        foreach (var kind in SyncJob.Kinds.Where(k => !files.ContainsKey(k)))
            files[kind] = await StartAsync(db, run, kind, ct);

        var paged = new List<string>();
        foreach (var kind in SyncJob.Kinds)
        {
            var file = files[kind];
            if (file.Status == "running") await WaitAsync(db, run.TenantId, file, ct);
            if (file.Status == "completed")
            {
                try
                {
                    if (file.ObjectCount > 0)
                    {
                        await db.Database.OpenConnectionAsync(ct);
                        try { await loader.LoadAsync((NpgsqlConnection)db.Database.GetDbConnection(), run.TenantId, file, ct); }
                        finally { await db.Database.CloseConnectionAsync(); }
                    }
                    file.Status = "loaded";
                }
                catch (BulkFileGoneException e)
                {
                    (file.Status, file.Error) = ("failed", e.Message);
                }
                await db.SaveChangesAsync(ct);
                logger.LogInformation("Bulk {Kind} of store {StoreId}: {Status}, {Lines} lines", kind, run.TenantId, file.Status, file.LinesLoaded);
            }
            if (file.Status == "failed") paged.Add(kind);
        }
        return paged;
    }

    private async Task<SyncBulkFile> StartAsync(XenoDb db, SyncRun run, string kind, CancellationToken ct)
    {
        // Database time, the clock webhooks stamp rewritten lines with (orders.lines_written_at).
        var startedAt = await db.Database.SqlQueryRaw<DateTimeOffset>("SELECT clock_timestamp() AS \"Value\"").SingleAsync(ct);
        var file = new SyncBulkFile { RunId = run.Id, Kind = kind, OperationId = "", Status = "failed", StartedAt = startedAt };
        try
        {
            var data = await shopify.QueryAsync(run.TenantId, ShopifyQueries.BulkRunQuery, new { query = ShopifyBulkQueries.For(kind) }, ct);
            var payload = data["bulkOperationRunQuery"];
            if (payload?["userErrors"] is JsonArray { Count: > 0 } errors)
                file.Error = "Shopify refused the bulk query: " + errors[0]?["message"];
            else if ((string?)payload?["bulkOperation"]?["id"] is { } id)
                (file.OperationId, file.Status) = (id, "running");
        }
        catch (ShopifyApiException e)
        {
            // A bulk operation is an optimisation: without one, the kind is paged.
            file.Error = e.Message;
        }
        if (file.Status == "failed") logger.LogWarning("No bulk operation for the {Kind} of store {StoreId}: {Error}", kind, run.TenantId, file.Error);
        db.SyncBulkFiles.Add(file);
        await db.SaveChangesAsync(ct);
        return file;
    }

    /// <summary>Polls the operation until it ends: completed (with its file), or failed, canceled or expired.</summary>
    private async Task WaitAsync(XenoDb db, Guid storeId, SyncBulkFile file, CancellationToken ct)
    {
        var wait = FirstPoll;
        while (true)
        {
            var data = await shopify.QueryAsync(storeId, ShopifyQueries.BulkOperationStatus, new { id = file.OperationId }, ct);
            var operation = data["node"];
            var status = (string?)operation?["status"];
            if (status == "COMPLETED")
            {
                file.Url = (string?)operation!["url"];
                file.ObjectCount = long.Parse((string?)operation["objectCount"] ?? "0", System.Globalization.CultureInfo.InvariantCulture);
                file.Status = file.ObjectCount == 0 || file.Url is not null ? "completed" : "failed";
                break;
            }
            if (status is null or "FAILED" or "CANCELED" or "CANCELING" or "EXPIRED")
            {
                (file.Status, file.Error) = ("failed", $"Shopify's bulk operation ended {status?.ToLowerInvariant() ?? "unknown"}"
                    + ((string?)operation?["errorCode"] is { } code ? $" ({code})." : "."));
                break;
            }
            await Task.Delay(wait, ct);
            wait = TimeSpan.FromTicks(Math.Min(LongestPoll.Ticks, wait.Ticks * 3 / 2));
        }
        await db.SaveChangesAsync(ct);
    }
}
