using Npgsql;

namespace Xeno.Bench;

/// <summary>When one bulk file of a full sync changed state, as seen by polling <c>sync_bulk_files</c>.</summary>
internal sealed class BulkFileTimes
{
    public string OperationId = "";
    public string Status = "";
    public long ObjectCount;
    public long LinesLoaded;
    public DateTimeOffset? Created;
    /// <summary>The last poll that still saw it running, and the first that did not (Xeno had the file's URL).</summary>
    public DateTimeOffset? LastSeenRunning, LeftRunning;
    public DateTimeOffset? Loaded;

    /// <summary>When Xeno started on the file: the first poll that saw it out of <c>running</c>; when that poll already saw
    /// it loaded, the last poll that saw it running (the pick-up lies between the two).</summary>
    public DateTimeOffset? PickedUp => LeftRunning is null ? null : Loaded == LeftRunning ? LastSeenRunning ?? LeftRunning : LeftRunning;
}

/// <summary>What one full sync did, and when, as seen from outside Xeno (its tables, its process).</summary>
internal sealed class SyncTimeline
{
    public DateTimeOffset ConnectSent, ConnectAnswered;
    public Guid RunId;
    public string Status = "";
    public string? Error;
    public DateTimeOffset? RunStarted, RunFinished; // database times
    public DateTimeOffset? FinishedSeen;
    public Dictionary<string, BulkFileTimes> Files { get; } = [];
    /// <summary>Every bulk file loaded (or failed), as first seen.</summary>
    public DateTimeOffset? AllFilesDone;
    /// <summary>stores.aggregates_timezone first seen set (by whoever built them).</summary>
    public DateTimeOffset? AggregatesTimezoneSet;
    /// <summary>The first write after every file was loaded (stores.data_version moved on): the sync's own aggregate build.</summary>
    public DateTimeOffset? AggregatesBuilt;
    public long RefundsPendingAtAggregates = -1;
    public double MaxRssMb, MaxRssMbDuringOrders;
    /// <summary>Set when the watch stopped during the refund details (bounded): when, and how many were still pending.</summary>
    public DateTimeOffset? DetailsCutOff;
    public long RefundsPendingAtCutOff = -1;
    public int Polls;

    public BulkFileTimes? Orders => Files.GetValueOrDefault("orders");
    public bool Succeeded => Status == "succeeded";
}

/// <summary>
/// Polls a store's sync every 50 ms as the database owner (tenant set): the run, its bulk files, the store's aggregate
/// state; and samples Xeno's RSS at each poll. One round trip per poll.
/// </summary>
internal static class SyncMonitor
{
    /// <param name="afterFailure">How long to go on watching a failed sync's store for its aggregates (Xeno's minutely job
    /// builds those of a store that has none).</param>
    /// <param name="detailsBound">How long to watch the refund details once the aggregates are built; then the watch
    /// stops, noting how many refunds were still pending.</param>
    public static async Task<SyncTimeline> WatchAsync(BenchEnvironment env, Guid store, SyncTimeline timeline, TimeSpan timeout, CancellationToken ct,
        TimeSpan? afterFailure = null, TimeSpan? detailsBound = null)
    {
        await using var conn = await env.OwnerAsync(store, ct);
        var deadline = DateTimeOffset.UtcNow + timeout;
        long dataVersionAtFilesDone = -1;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var now = DateTimeOffset.UtcNow;
            timeline.Polls++;
            var rss = env.Xeno.RssMb ?? 0;
            timeline.MaxRssMb = Math.Max(timeline.MaxRssMb, rss);
            if (timeline.Orders is { Status: "completed" } || timeline.Orders is { LeftRunning: not null, Loaded: null })
                timeline.MaxRssMbDuringOrders = Math.Max(timeline.MaxRssMbDuringOrders, rss);

            await using (var batch = new NpgsqlBatch(conn))
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(
                    "SELECT id, status, started_at, finished_at, error FROM sync_runs ORDER BY queued_at DESC LIMIT 1"));
                batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                    SELECT f.kind, f.status, f.operation_id, f.object_count, f.lines_loaded FROM sync_bulk_files f
                    WHERE f.run_id = (SELECT id FROM sync_runs ORDER BY queued_at DESC LIMIT 1)
                    """));
                var storeQuery = new NpgsqlBatchCommand("SELECT aggregates_timezone IS NOT NULL, data_version FROM stores WHERE id = @id");
                storeQuery.Parameters.AddWithValue("id", store);
                batch.BatchCommands.Add(storeQuery);
                await using var r = await batch.ExecuteReaderAsync(ct);
                if (await r.ReadAsync(ct))
                {
                    timeline.RunId = r.GetGuid(0);
                    timeline.Status = r.GetString(1);
                    timeline.RunStarted = r.IsDBNull(2) ? null : r.GetFieldValue<DateTimeOffset>(2);
                    timeline.RunFinished = r.IsDBNull(3) ? null : r.GetFieldValue<DateTimeOffset>(3);
                    timeline.Error = r.IsDBNull(4) ? null : r.GetString(4);
                }
                await r.NextResultAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    var kind = r.GetString(0);
                    if (!timeline.Files.TryGetValue(kind, out var file)) timeline.Files[kind] = file = new BulkFileTimes { Created = now };
                    file.Status = r.GetString(1);
                    file.OperationId = r.GetString(2);
                    file.ObjectCount = r.GetInt64(3);
                    file.LinesLoaded = r.GetInt64(4);
                    if (file.Status == "running") file.LastSeenRunning = now;
                    else file.LeftRunning ??= now;
                    if (file.Status is "loaded" or "failed") file.Loaded ??= now;
                }
                await r.NextResultAsync(ct);
                if (await r.ReadAsync(ct))
                {
                    if (r.GetBoolean(0)) timeline.AggregatesTimezoneSet ??= now;
                    var version = r.GetInt64(1);
                    if (timeline.AllFilesDone is null && timeline.Files.Count == 4 && timeline.Files.Values.All(f => f.Loaded is not null))
                    {
                        timeline.AllFilesDone = now;
                        dataVersionAtFilesDone = version;
                    }
                    else if (timeline.AllFilesDone is not null && timeline.AggregatesBuilt is null && version > dataVersionAtFilesDone && timeline.Status == "running")
                    {
                        timeline.AggregatesBuilt = now;
                        await r.DisposeAsync();
                        await using var pending = new NpgsqlCommand("SELECT count(*) FROM refunds WHERE details_pending", conn);
                        timeline.RefundsPendingAtAggregates = (long)(await pending.ExecuteScalarAsync(ct))!;
                    }
                }
            }
            if (timeline.Status is "succeeded" or "failed")
            {
                timeline.FinishedSeen ??= now;
                // A sync that ends between two polls: the aggregates were built by then at the latest.
                if (timeline.Status == "succeeded") timeline.AggregatesBuilt ??= now;
                if (timeline.Status == "succeeded" || timeline.AggregatesTimezoneSet is not null || afterFailure is null
                    || now - timeline.FinishedSeen > afterFailure) return timeline;
            }
            if (detailsBound is { } bound && timeline.Status == "running" && timeline.AggregatesBuilt is { } built && now - built > bound)
            {
                timeline.DetailsCutOff = now;
                await using var pending = new NpgsqlCommand("SELECT count(*) FROM refunds WHERE details_pending", conn);
                timeline.RefundsPendingAtCutOff = (long)(await pending.ExecuteScalarAsync(ct))!;
                return timeline;
            }
            if (now > deadline)
            {
                timeline.Error = $"the sync had not finished after {timeout.TotalMinutes:0} min (status {timeline.Status})";
                return timeline;
            }
            await Task.Delay(50, ct);
        }
    }
}
