using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// Stores deliveries the way a database commits a busy log: together. Each request hands its delivery over and waits;
/// a writer takes whatever has arrived (up to <see cref="WebhookOptions.IntakeBatchSize"/>, or what came within
/// <see cref="WebhookOptions.IntakeDelay"/>) and writes it in one transaction: per store, one multi-row insert (a repeat
/// of an event or webhook id is skipped by the unique indexes) and the store's mark in <c>webhook_pending</c> (a new mark
/// NOTIFYs the workers); then the commit. Only after the commit is each request told its delivery is stored, and only
/// then does it answer 200. A transaction that fails fails its requests (Shopify retries them), never answers 200 for them.
/// </summary>
public sealed class WebhookInbox(DatabaseConnections connections, IOptions<WebhookOptions> options, ILogger<WebhookInbox> logger)
    : BackgroundService
{
    public enum Outcome
    {
        /// <summary>Committed (or already there: a repeat of a delivery stored earlier).</summary>
        Stored,
        /// <summary>The store no longer exists; nothing was kept.</summary>
        StoreGone,
    }

    private sealed record Item(WebhookDelivery Delivery, TaskCompletionSource<Outcome> Done);

    /// <summary>The app role's connection, named so that <c>pg_stat_activity</c> tells intake's transactions apart.</summary>
    private string ConnectionString => field ??= connections.App is { Length: > 0 } app
        ? new NpgsqlConnectionStringBuilder(app) { ApplicationName = "xeno-webhook-intake" }.ConnectionString
        : throw new InvalidOperationException("The app role's connection is not known before the database is prepared.");

    // Bounded: when PostgreSQL falls behind, requests wait here (and Shopify's own timeout applies) instead of piling up in memory.
    private readonly Channel<Item> _queue = Channel.CreateBounded<Item>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.Wait, SingleReader = false, SingleWriter = false,
    });

    /// <summary>Completes once the delivery is committed; throws when it could not be.</summary>
    public async Task<Outcome> StoreAsync(WebhookDelivery delivery, CancellationToken ct)
    {
        var item = new Item(delivery, new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        try { await _queue.Writer.WriteAsync(item, ct); }
        catch (ChannelClosedException) { throw new InboxUnavailableException("Xeno is shutting down."); }
        // Once handed over, the request waits for the outcome even if its client went away: the write goes ahead regardless.
        return await item.Done.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writers = Math.Max(1, options.Value.IntakeWriters);
        return Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(() => WriteLoopAsync(stoppingToken), CancellationToken.None)));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Requests still arriving are refused (503, Shopify retries); what was handed over is written before the writers stop.
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task WriteLoopAsync(CancellationToken stoppingToken)
    {
        var max = Math.Max(1, options.Value.IntakeBatchSize);
        var batch = new List<Item>(max);
        // Not stoppingToken: on shutdown the queue is completed, and the loop drains it before it ends.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < max && _queue.Reader.TryRead(out var item)) batch.Add(item);
            if (batch.Count < max && options.Value.IntakeDelay > TimeSpan.Zero && !stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(options.Value.IntakeDelay, CancellationToken.None);
                while (batch.Count < max && _queue.Reader.TryRead(out var item)) batch.Add(item);
            }
            if (batch.Count > 0) await FlushAsync(batch);
        }
    }

    private async Task FlushAsync(List<Item> batch)
    {
        var stores = batch.GroupBy(i => i.Delivery.TenantId).OrderBy(g => g.Key).ToList();
        try
        {
            await WriteAsync(stores);
            return;
        }
        catch (Exception e) when (stores.Count > 1)
        {
            // One store's rows can sink the whole transaction (its store deleted at that instant, say): each store alone then.
            logger.LogWarning(e, "Storing {Count} webhook deliveries of {Stores} stores failed; trying store by store", batch.Count, stores.Count);
        }
        catch (Exception e)
        {
            Fail(batch, e);
            return;
        }
        foreach (var store in stores)
        {
            try { await WriteAsync([store]); }
            catch (Exception e) { Fail(store, e); }
        }
    }

    private void Fail(IEnumerable<Item> items, Exception e)
    {
        logger.LogError(e, "Webhook deliveries could not be stored; they are answered 503 and Shopify sends them again");
        foreach (var item in items) item.Done.TrySetException(new InboxUnavailableException("The delivery could not be stored.", e));
    }

    private async Task WriteAsync(List<IGrouping<Guid, Item>> stores)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var store in stores)
        {
            var rows = store.Select(i => i.Delivery).ToList();
            // The tenant for row-level security, for this store's rows only. The shared lock lets a worker that is about to
            // drop the store's mark wait for this transaction, so the mark cannot vanish under deliveries it has not seen.
            var setup = new NpgsqlBatchCommand("""
                SELECT set_config('app.tenant_id', @tenant::text, true),
                       pg_advisory_xact_lock_shared(@space, hashtext(@tenant::text)),
                       EXISTS (SELECT 1 FROM stores WHERE id = @tenant)
                """);
            setup.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = store.Key });
            setup.Parameters.Add(new NpgsqlParameter("space", NpgsqlDbType.Integer) { Value = WebhooksSetup.AdvisoryLockSpace });
            batch.BatchCommands.Add(setup);

            // ON CONFLICT DO NOTHING covers both unique indexes, within this insert as well: ten copies store one row.
            var insert = new NpgsqlBatchCommand("""
                WITH stored AS (
                  INSERT INTO webhook_deliveries (tenant_id, id, topic, shop_domain, event_id, webhook_id, triggered_at, api_version,
                    body, received_at, status, ignored_reason, attempts)
                  SELECT @tenant, u.*, 0
                  FROM unnest(@id, @topic, @shop, @event, @webhook, @triggered, @version, @body, @received, @status, @reason)
                    AS u(id, topic, shop_domain, event_id, webhook_id, triggered_at, api_version, body, received_at, status, ignored_reason)
                  WHERE EXISTS (SELECT 1 FROM stores WHERE id = @tenant)
                  ON CONFLICT DO NOTHING
                  RETURNING status
                ), marked AS (
                  INSERT INTO webhook_pending (store_id, updated_at)
                  SELECT @tenant, now() WHERE EXISTS (SELECT 1 FROM stored WHERE status = 'pending')
                  ON CONFLICT DO NOTHING
                  RETURNING store_id
                )
                SELECT (SELECT count(*) FROM stored), (SELECT count(pg_notify(@channel, '')) FROM marked)
                """);
            insert.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = store.Key });
            // Only a new mark wakes the workers (in every process, once this commits): a mark already there is a store a
            // worker holds, and that worker sees these rows before it lets the mark go, or one the workers will come to.
            insert.Parameters.Add(new NpgsqlParameter("channel", NpgsqlDbType.Text) { Value = WebhooksSetup.Channel });
            Add(insert, "id", NpgsqlDbType.Uuid, rows.Select(d => d.Id).ToArray());
            Add(insert, "topic", NpgsqlDbType.Text, rows.Select(d => d.Topic).ToArray());
            Add(insert, "shop", NpgsqlDbType.Text, rows.Select(d => d.ShopDomain).ToArray());
            Add(insert, "event", NpgsqlDbType.Text, rows.Select(d => d.EventId).ToArray());
            Add(insert, "webhook", NpgsqlDbType.Text, rows.Select(d => d.WebhookId).ToArray());
            Add(insert, "triggered", NpgsqlDbType.TimestampTz, rows.Select(d => d.TriggeredAt?.ToUniversalTime()).ToArray());
            Add(insert, "version", NpgsqlDbType.Text, rows.Select(d => d.ApiVersion).ToArray());
            Add(insert, "body", NpgsqlDbType.Text, rows.Select(d => d.Body).ToArray());
            Add(insert, "received", NpgsqlDbType.TimestampTz, rows.Select(d => d.ReceivedAt.ToUniversalTime()).ToArray());
            Add(insert, "status", NpgsqlDbType.Text, rows.Select(d => d.Status).ToArray());
            Add(insert, "reason", NpgsqlDbType.Text, rows.Select(d => d.IgnoredReason).ToArray());
            batch.BatchCommands.Add(insert);
        }

        var present = new bool[stores.Count];
        await using (var reader = await batch.ExecuteReaderAsync())
        {
            for (var i = 0; i < stores.Count; i++)
            {
                await reader.ReadAsync();
                present[i] = reader.GetBoolean(2);
                await reader.NextResultAsync();
                await reader.NextResultAsync();
            }
        }
        await transaction.CommitAsync();

        for (var i = 0; i < stores.Count; i++)
            foreach (var item in stores[i]) item.Done.TrySetResult(present[i] ? Outcome.Stored : Outcome.StoreGone);
    }

    private static void Add<T>(NpgsqlBatchCommand command, string name, NpgsqlDbType type, T[] values) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | type) { Value = values });
}

/// <summary>A delivery that could not be stored: intake answers 503, and Shopify sends it again.</summary>
public sealed class InboxUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
