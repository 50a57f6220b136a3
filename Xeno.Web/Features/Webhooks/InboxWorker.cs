using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// Applies stored deliveries: the inbox is the queue. A worker loop takes one store that has work (its row in
/// <c>webhook_pending</c>, <c>FOR UPDATE SKIP LOCKED</c>, so one worker per store at a time), sets that store as the
/// tenant, claims its due deliveries oldest first (<c>FOR UPDATE SKIP LOCKED</c>) and applies them in one transaction:
/// first up to <see cref="WebhookOptions.LargeBatchSize"/> of them as one; if any throws, all roll back and go again in
/// batches of <see cref="WebhookOptions.BatchSize"/>, each delivery in its own savepoint: one that throws is rolled back
/// alone and marked failed, to be tried again later. The
/// store's data version moves once (<see cref="ShopDataWriter.FinishAsync"/>), the deliveries' outcomes are written, the
/// store's mark is dropped if nothing more is due, and the whole commits together. A worker killed midway commits
/// nothing: its deliveries stay pending, and its store's mark stays for the next worker.
/// </summary>
/// <remarks>Loops wake at once on intake's NOTIFY and otherwise look every <see cref="WebhookOptions.PollInterval"/>.
/// On shutdown a batch under way finishes; past the host's shutdown timeout it is abandoned and rolls back.
/// A batch that fails outside the savepoints (in its common writes) rolls its attempt counts back too; so its
/// deliveries' try is counted in a transaction of its own (<see cref="CountFailedTryAsync"/>), and a delivery tried
/// before is applied alone, so that one delivery that breaks its batch cannot hold back the others for long.</remarks>
public sealed class InboxWorker(DatabaseConnections connections, IServiceScopeFactory scopes, IOptions<WebhookOptions> options,
    TimeProvider clock, ILogger<InboxWorker> logger) : BackgroundService
{
    /// <summary>Tries a delivery gets; after the last one it stays failed, on the store's settings page.</summary>
    public const int MaxAttempts = 10;

    private TaskCompletionSource _wake = NewSignal();
    private readonly CancellationTokenSource _abort = new();

    /// <summary>The app role's connection, named so that <c>pg_stat_activity</c> tells the workers' transactions apart.</summary>
    private string ConnectionString => field ??= connections.App is { Length: > 0 } app
        ? new NpgsqlConnectionStringBuilder(app) { ApplicationName = "xeno-webhook-worker" }.ConnectionString
        : throw new InvalidOperationException("The app role's connection is not known before the database is prepared.");

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = Enumerable.Range(0, Math.Max(1, options.Value.Workers))
            .Select(_ => Task.Run(() => WorkLoopAsync(stoppingToken), CancellationToken.None));
        return Task.WhenAll(loops.Append(Task.Run(() => ListenAsync(stoppingToken), CancellationToken.None)));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await using var _ = cancellationToken.Register(_abort.Cancel);
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }

    /// <summary>When a failed delivery is tried again: 15 s after the first failure, doubling up to an hour (about two
    /// hours over all the tries); null after the last try.</summary>
    public static DateTimeOffset? NextAttempt(int attempts, DateTimeOffset now) =>
        attempts >= MaxAttempts ? null : now + TimeSpan.FromSeconds(Math.Min(15 * Math.Pow(2, attempts - 1), 3600));

    private async Task WorkLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before looking, so that a notification arriving while this loop looks is not lost.
            var signal = Volatile.Read(ref _wake).Task;
            bool worked;
            try
            {
                worked = await ProcessNextBatchAsync(_abort.Token);
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The transaction rolled back: the deliveries are still pending and the store still marked.
                logger.LogError(e, "A webhook batch failed and was rolled back; its deliveries stay pending");
                worked = false;
                signal = Task.Delay(options.Value.PollInterval, CancellationToken.None); // not at once again
            }
            if (!worked) await Task.WhenAny(signal, Task.Delay(options.Value.PollInterval, stoppingToken));
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        // Keepalive: a connection that died silently would otherwise leave the workers on polling alone.
        var listener = new NpgsqlConnectionStringBuilder(ConnectionString) { KeepAlive = 30 }.ConnectionString;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(listener);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {WebhooksSetup.Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                Wake(); // whatever was notified while nobody listened
                while (true) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Listening for new webhooks failed; the workers poll until it is back");
                try { await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private void Wake() => Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One store's batch, in one transaction. True when the loop should go on at once: it applied something, or
    /// more is due.</summary>
    public async Task<bool> ProcessNextBatchAsync(CancellationToken ct)
    {
        // First the quick way: up to LargeBatchSize of the store's deliveries without a savepoint each, so that a backlog
        // (a flash sale) pays the refresh of the day's aggregates, the outcome update and the commit once per few hundred
        // deliveries rather than per fifty. If any one of them throws, the whole transaction rolls back and the careful
        // way below takes over: fifty at a time, each in its savepoint.
        if (options.Value.LargeBatchSize > options.Value.BatchSize)
        {
            Guid? store = null;
            try
            {
                return await ProcessBatchAsync(storeId => store = storeId, _ => { }, careful: false, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // Whatever broke the large batch (a delivery, its common writes, a lost connection) is met again, and
                // answered as before, by the careful way: tries counted, a delivery tried before alone, an outage left
                // uncounted. The store stays on the careful way for a while, so that a delivery deep in its backlog that
                // fails does not cost a large batch each time fifty go before it.
                if (e is not CarefulBatchNeeded)
                    logger.LogInformation(e, "A large webhook batch failed and was rolled back; its deliveries go again fifty at a time");
                if (store is { } failedStore) _carefulUntil[failedStore] = clock.GetUtcNow() + CarefulFor;
            }
        }
        Guid? claimed = null;
        List<WebhookDelivery>? batch = null;
        try
        {
            return await ProcessBatchAsync(storeId => claimed = storeId, deliveries => batch = deliveries, careful: true, ct);
        }
        catch (Exception e) when (claimed is { } storeId && !ct.IsCancellationRequested)
        {
            // Rolled back, so the store keeps its place at the head of the line; a store whose batch fails each time
            // would hold every worker. Sent to the back, it is tried again after the others.
            // A lost connection or a database going down is not the deliveries' doing: their try is not counted.
            if (batch is { Count: > 0 } && !IsOutage(e)) await CountFailedTryAsync(storeId, batch, e);
            await SendToBackAsync(storeId);
            throw;
        }
    }

    /// <summary>Thrown (and the transaction rolled back) when the quick way meets a delivery that fails, or one tried before.</summary>
    private sealed class CarefulBatchNeeded : Exception;

    /// <summary>Stores whose large batch failed lately, and until when they go the careful way.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, DateTimeOffset> _carefulUntil = new();
    private static readonly TimeSpan CarefulFor = TimeSpan.FromMinutes(1);

    /// <summary>A step of the quick way: whatever it throws sends the batch the careful way.</summary>
    private async Task<T> QuicklyAsync<T>(Func<Task<T>> step, CancellationToken ct)
    {
        try { return await step(); }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            LogQuickFailure(e);
            throw new CarefulBatchNeeded();
        }
    }

    private void LogQuickFailure(Exception e) =>
        logger.LogInformation(e, "A delivery failed in a large webhook batch; the batch goes again fifty at a time, each delivery on its own");

    private async Task<bool> ProcessBatchAsync(Action<Guid> claimed, Action<List<WebhookDelivery>> claimedDeliveries, bool careful,
        CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (await ClaimStoreAsync(connection, transaction, ct) is not { } storeId) return false;
        claimed(storeId);

        var now = clock.GetUtcNow();
        if (!careful && _carefulUntil.TryGetValue(storeId, out var until))
        {
            if (until > now) throw new CarefulBatchNeeded();
            _carefulUntil.TryRemove(storeId, out _);
        }
        var deliveries = await ClaimDeliveriesAsync(connection, transaction, storeId, now,
            careful ? options.Value.BatchSize : options.Value.LargeBatchSize, ct);
        if (!careful && deliveries.Any(d => d.Attempts > 0)) throw new CarefulBatchNeeded();
        // A delivery tried before may be what broke its last batch: it goes alone (the others stay claimed, untouched,
        // until this commits, and come next).
        if (deliveries is [{ Attempts: > 0 } retry, _, ..]) deliveries = [retry];
        claimedDeliveries(deliveries);

        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(storeId);
        var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
        db.Database.SetDbConnection(connection);
        await db.Database.UseTransactionAsync(transaction, ct);
        // The savepoints are this worker's, one per delivery; EF's own, around each SaveChanges, would only add more.
        db.Database.AutoSavepointsEnabled = false;
        var writer = new ShopDataWriter(connection, transaction, storeId);

        var applied = new List<Guid>();
        var failed = new List<(WebhookDelivery Delivery, Exception Error)>();
        var ignored = new Dictionary<Guid, string?>();
        // The quick way writes order deliveries in a row as one (OrderRun); the careful way applies each on its own.
        var orders = careful ? null : new OrderRun();
        foreach (var delivery in deliveries)
        {
            if (orders is not null)
            {
                if (OrderRun.Takes(delivery.Topic))
                {
                    if (await QuicklyAsync(() => orders.AddAsync(db, delivery, now, logger, ct), ct) is { } reason) ignored[delivery.Id] = reason;
                    continue;
                }
                applied.AddRange(await QuicklyAsync(() => orders.FlushAsync(writer, ct), ct));
            }
            if (careful) await transaction.SaveAsync("delivery", ct);
            if (delivery.Topic == "customers/redact")
            {
                // It empties the bodies of other deliveries, and a repeat of one of those arriving now would wait for this
                // transaction while holding the store's intake lock, which this worker takes before it commits: so that
                // lock first (see FinishBatchAsync). Intake of this store then waits for this batch; redacts are rare.
                await using var hold = new NpgsqlBatch(connection, transaction) { BatchCommands = { HoldIntakeCommand(storeId) } };
                await hold.ExecuteNonQueryAsync(ct);
            }
            ProcessWebhook.Outcome outcome;
            try
            {
                outcome = await ProcessWebhook.ApplyAsync(db, writer, delivery, applied, now, logger, ct);
            }
            catch (Exception e) when (!careful && !ct.IsCancellationRequested)
            {
                LogQuickFailure(e);
                throw new CarefulBatchNeeded();
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // This delivery's writes go; the batch's others stay. A broken connection throws here again and ends the batch.
                await transaction.RollbackAsync("delivery", ct);
                db.ChangeTracker.Clear();
                failed.Add((delivery, e));
                logger.LogWarning(e, "Webhook {DeliveryId} ({Topic}) failed on try {Attempt}", delivery.Id, delivery.Topic, delivery.Attempts + 1);
                continue;
            }
            if (careful) await transaction.ReleaseAsync("delivery", ct);
            if (outcome.Result == ProcessWebhook.Result.Ignored)
            {
                ignored[delivery.Id] = outcome.IgnoredReason;
                continue;
            }
            if (outcome.Result == ProcessWebhook.Result.StoreErased)
            {
                // The store and everything of it is gone, the rest of this batch included.
                await ExecuteAsync(connection, transaction, "DELETE FROM webhook_pending WHERE store_id = @tenant", storeId, ct);
                await transaction.CommitAsync(ct);
                return true;
            }
            applied.Add(delivery.Id);
        }

        if (orders is not null) applied.AddRange(await QuicklyAsync(() => orders.FlushAsync(writer, ct), ct));
        if (applied.Count > 0) await writer.FinishAsync(ct);
        var more = await FinishBatchAsync(connection, transaction, storeId, deliveries, failed, ignored, now, ct);
        await transaction.CommitAsync(ct);
        // More is due (intake does not wake anyone for a store that is already marked): on, without waiting.
        return deliveries.Count > 0 || more;
    }

    /// <summary>The store waiting longest that no other worker holds.</summary>
    private static async Task<Guid?> ClaimStoreAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var claim = new NpgsqlCommand(
            "SELECT store_id FROM webhook_pending ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED", connection, transaction);
        return await claim.ExecuteScalarAsync(ct) as Guid?;
    }

    private static async Task<List<WebhookDelivery>> ClaimDeliveriesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid storeId, DateTimeOffset now, int limit, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        var tenant = new NpgsqlBatchCommand("SELECT set_config('app.tenant_id', @tenant::text, true)");
        tenant.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
        batch.BatchCommands.Add(tenant);
        var claim = new NpgsqlBatchCommand("""
            SELECT id, topic, shop_domain, body, triggered_at, received_at, attempts
            FROM webhook_deliveries
            WHERE tenant_id = @tenant AND status IN ('pending', 'failed') AND (status = 'pending' OR next_attempt_at <= @now)
            ORDER BY received_at, id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
            """);
        claim.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
        claim.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.TimestampTz) { Value = now.ToUniversalTime() });
        claim.Parameters.Add(new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = Math.Max(1, limit) });
        batch.BatchCommands.Add(claim);

        var deliveries = new List<WebhookDelivery>();
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            deliveries.Add(new WebhookDelivery
            {
                TenantId = storeId, Id = reader.GetGuid(0), Topic = reader.GetString(1), ShopDomain = reader.GetString(2),
                Body = reader.IsDBNull(3) ? null : reader.GetString(3),
                TriggeredAt = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
                ReceivedAt = reader.GetFieldValue<DateTimeOffset>(5), Attempts = reader.GetInt32(6), Status = "pending",
            });
        }
        return deliveries;
    }

    /// <summary>
    /// Records the batch's outcomes and drops the store's mark when nothing is due any more, else sends the store to the
    /// back of the line and says that more is due.
    /// </summary>
    /// <remarks>
    /// Intake marks a store with <c>ON CONFLICT DO NOTHING</c>, which does not wait for this worker's lock on the mark;
    /// so a delivery intake is committing right now may count on a mark this worker is about to drop. Intake holds a
    /// shared advisory lock on the store for its transaction: taking it exclusively here waits for those transactions to
    /// commit, and the check that follows (a new snapshot) sees their deliveries. Intake transactions that start later
    /// wait for this commit, and then find no mark and write their own (and NOTIFY). The lock comes before the batch's
    /// deliveries are updated: a repeat of one of them arriving meanwhile waits, in intake's insert, for the transaction
    /// that updated it, and intake must not be holding the lock this worker waits for when it does.
    /// </remarks>
    private static async Task<bool> FinishBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid storeId,
        List<WebhookDelivery> deliveries, List<(WebhookDelivery Delivery, Exception Error)> failed, Dictionary<Guid, string?> ignored,
        DateTimeOffset now, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(HoldIntakeCommand(storeId));
        if (deliveries.Count > 0)
        {
            var errors = failed.ToDictionary(f => f.Delivery.Id, f => StorableError(f.Error));
            var record = new NpgsqlBatchCommand("""
                UPDATE webhook_deliveries d
                SET status = u.status, attempts = u.attempts, processed_at = u.processed_at, last_error = u.last_error,
                    next_attempt_at = u.next_attempt_at, ignored_reason = u.ignored_reason
                FROM unnest(@id, @status, @attempts, @processed, @error, @next, @reason)
                  AS u(id, status, attempts, processed_at, last_error, next_attempt_at, ignored_reason)
                WHERE d.tenant_id = @tenant AND d.id = u.id
                """);
            record.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
            record.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = deliveries.Select(d => d.Id).ToArray() });
            record.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Array | NpgsqlDbType.Text)
            {
                Value = deliveries.Select(d => errors.ContainsKey(d.Id) ? "failed" : ignored.ContainsKey(d.Id) ? "ignored" : "processed").ToArray(),
            });
            record.Parameters.Add(new NpgsqlParameter("attempts", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = deliveries.Select(d => d.Attempts + 1).ToArray() });
            record.Parameters.Add(new NpgsqlParameter("processed", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
            {
                Value = deliveries.Select(d => errors.ContainsKey(d.Id) ? (DateTimeOffset?)null : now.ToUniversalTime()).ToArray(),
            });
            record.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Array | NpgsqlDbType.Text)
            {
                Value = deliveries.Select(d => errors.GetValueOrDefault(d.Id)).ToArray(),
            });
            record.Parameters.Add(new NpgsqlParameter("next", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
            {
                Value = deliveries.Select(d => errors.ContainsKey(d.Id) ? NextAttempt(d.Attempts + 1, now)?.ToUniversalTime() : null).ToArray(),
            });
            record.Parameters.Add(new NpgsqlParameter("reason", NpgsqlDbType.Array | NpgsqlDbType.Text)
            {
                Value = deliveries.Select(d => ignored.GetValueOrDefault(d.Id)).ToArray(),
            });
            batch.BatchCommands.Add(record);
        }
        var drop = new NpgsqlBatchCommand("""
            DELETE FROM webhook_pending
            WHERE store_id = @tenant AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries
              WHERE tenant_id = @tenant AND status IN ('pending', 'failed') AND (status = 'pending' OR next_attempt_at <= @now))
            """);
        drop.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
        drop.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.TimestampTz) { Value = now.ToUniversalTime() });
        batch.BatchCommands.Add(drop);
        var requeue = new NpgsqlBatchCommand("UPDATE webhook_pending SET updated_at = clock_timestamp() WHERE store_id = @tenant");
        requeue.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
        batch.BatchCommands.Add(requeue);
        await batch.ExecuteNonQueryAsync(ct);
        return requeue.RecordsAffected > 0;
    }

    /// <summary>
    /// The error a failed delivery keeps, as PostgreSQL text can hold it. Messages quote the body's values, and a body may
    /// carry "\u0000" or a lone surrogate, which no text column takes: written as they are, they failed the statement that
    /// records the batch's outcomes, so the whole batch rolled back, and the store's deliveries stayed pending, tried again
    /// and again, behind one bad body. Cut to a length a person reads, too.
    /// </summary>
    public static string StorableError(Exception error)
    {
        var text = $"{error.GetType().Name}: {error.Message}";
        if (text.Length > 2000) text = text[..2000] + "…";
        var storable = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0') storable.Append("\\u0000");
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) storable.Append(c).Append(text[++i]);
            else storable.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
        }
        return storable.ToString();
    }

    /// <summary>The store's advisory lock, exclusively: waits for intake transactions of the store in flight, and holds
    /// new ones until this transaction ends.</summary>
    private static NpgsqlBatchCommand HoldIntakeCommand(Guid storeId)
    {
        var hold = new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(@space, hashtext(@tenant::text))");
        hold.Parameters.Add(new NpgsqlParameter("space", NpgsqlDbType.Integer) { Value = WebhooksSetup.AdvisoryLockSpace });
        hold.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
        return hold;
    }

    /// <summary>The database went away, or the connection to it (its socket, its timeout: the workers talk to nothing else).</summary>
    private static bool IsOutage(Exception e)
    {
        if (DatabaseFaults.IsOutage(e)) return true;
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is TimeoutException or System.IO.IOException) return true;
        return false;
    }

    /// <summary>Counts a try of each delivery of a batch that rolled back whole, in a transaction of its own, with the
    /// same backoff and last try as a delivery that failed alone.</summary>
    private async Task CountFailedTryAsync(Guid storeId, List<WebhookDelivery> deliveries, Exception error)
    {
        try
        {
            var now = clock.GetUtcNow();
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var batch = new NpgsqlBatch(connection);
            var tenant = new NpgsqlBatchCommand("SELECT set_config('app.tenant_id', @tenant::text, false)");
            tenant.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
            batch.BatchCommands.Add(tenant);
            var count = new NpgsqlBatchCommand("""
                UPDATE webhook_deliveries d SET status = 'failed', attempts = u.attempts, last_error = @error, next_attempt_at = u.next_attempt_at
                FROM unnest(@id, @attempts, @next) AS u(id, attempts, next_attempt_at)
                WHERE d.tenant_id = @tenant AND d.id = u.id AND d.status IN ('pending', 'failed')
                """);
            count.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
            count.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = StorableError(error) });
            count.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = deliveries.Select(d => d.Id).ToArray() });
            count.Parameters.Add(new NpgsqlParameter("attempts", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = deliveries.Select(d => d.Attempts + 1).ToArray() });
            count.Parameters.Add(new NpgsqlParameter("next", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
            {
                Value = deliveries.Select(d => NextAttempt(d.Attempts + 1, now)?.ToUniversalTime()).ToArray(),
            });
            batch.BatchCommands.Add(count);
            await batch.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogWarning(e, "The failed try of a webhook batch of store {StoreId} could not be counted", storeId);
        }
    }

    private async Task SendToBackAsync(Guid storeId)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            // SKIP LOCKED: if another worker holds the store already, it is that worker's to move.
            await using var command = new NpgsqlCommand("""
                UPDATE webhook_pending SET updated_at = clock_timestamp()
                WHERE store_id = (SELECT store_id FROM webhook_pending WHERE store_id = @tenant FOR UPDATE SKIP LOCKED)
                """, connection);
            command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogWarning(e, "Store {StoreId} could not be moved to the back of the webhook line", storeId);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, Guid storeId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = storeId });
        await command.ExecuteNonQueryAsync(ct);
    }
}
