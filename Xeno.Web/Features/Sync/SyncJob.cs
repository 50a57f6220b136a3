using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Sync;

/// <summary>
/// Pulls a store's products, customers, orders and abandoned checkouts from the Admin API. A full sync backfills
/// through bulk operations (<see cref="BulkBackfill"/>); an incremental one, and any kind bulk could not bring, pages
/// through what changed. Each page is written together with the run's checkpoint (the cursor after it) in one
/// transaction, so a worker killed mid-sync resumes after the last stored page when Hangfire runs the job again, and
/// no page is ever counted without being stored. Refunds learned by id are then completed (<see cref="RefundDetails"/>),
/// and a full sync rebuilds the store's aggregates in one pass.
/// </summary>
public sealed class SyncJob(IServiceScopeFactory scopes, ShopifyCredentials credentials, BulkBackfill bulk, TimeProvider clock, ILogger<SyncJob> logger)
{
    public static readonly string[] Kinds = ["products", "customers", "orders", "abandonedCheckouts"];
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(5);

    [Queue("sync")]
    // A run that fails is recorded as failed and its job ends there; the next run (cron or "Sync now") starts anew. Only a
    // run that lost its database leaves by an exception, still running with its checkpoint: retried, the job resumes it.
    // REVIEW: past the last retry (about 40 minutes without a database) the run stays "running" and holds the store's
    // one active run; an operator re-queues the job from /hangfire.
    [AutomaticRetry(Attempts = 8, DelaysInSeconds = new[] { 5, 10, 20, 40, 60, 120, 600, 1200 }, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task RunAsync(Guid storeId, Guid runId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(storeId);
        var db = scope.ServiceProvider.GetRequiredService<XenoDb>();

        var run = await db.SyncRuns.FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null || run.Status is "succeeded" or "failed") return; // already finished: a repeated job does nothing
        var store = await db.Stores.AsNoTracking().FirstOrDefaultAsync(s => s.Id == storeId, ct);
        if (store is null) { await FinishAsync(db, run, "failed", "The store was disconnected.", ct); return; }
        if (store.Status == StoreStatus.Uninstalled)
        {
            await FinishAsync(db, run, "failed", store.ConnectionError ?? ShopifyCredentials.UninstalledMessage, ct);
            return;
        }

        if (run.Status == "queued")
        {
            run.Status = "running";
            run.StartedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(ct);
        }
        try
        {
            var full = run.Mode == "full";
            // The same kinds again on a resume: bulk records which kinds it brought.
            var paged = full ? await bulk.RunAsync(db, run, ct) : Kinds.ToList();
            if (run.CheckpointKind != Done)
            {
                var start = run.CheckpointKind is null ? 0 : paged.IndexOf(run.CheckpointKind);
                for (var k = Math.Max(start, 0); k < paged.Count; k++)
                    await SyncKindAsync(db, run, paged, paged[k], k == start ? run.CheckpointCursor : null, ct);
                if (paged.Count == 0) await MarkPagedAsync(db, run, ct);
            }
            if (full)
            {
                // A backfill writes without keeping aggregates as it goes; one pass over the store builds them all, and
                // the dashboard shows the store from here on, while the refunds' details still arrive. The planner
                // first learns how many rows the backfill brought (autovacuum would, a minute or more later).
                await db.Database.ExecuteSqlRawAsync("SELECT xeno_analyze_store_tables()", ct);
                await db.WriteAsync(storeId, writer =>
                {
                    writer.Affected.Everything = true;
                    return Task.CompletedTask;
                }, ct);
                // And of the aggregates just built, which the refund details then refresh customer by customer.
                await db.Database.ExecuteSqlRawAsync("SELECT xeno_analyze_aggregate_tables()", ct);
            }
            await RefundDetails.FetchAsync(db, credentials, storeId, ct);
            await FinishAsync(db, run, "succeeded", null, ct);
            await db.Stores.Where(s => s.Id == storeId)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSyncedAt, run.FinishedAt).SetProperty(x => x.ConnectionError, (string?)null), ct);
            logger.LogInformation("Sync {RunId} of store {StoreId} succeeded: {Orders} orders, {Customers} customers",
                run.Id, storeId, run.FetchedOrders, run.FetchedCustomers);
        }
        catch (ShopifyAuthException e)
        {
            // An uninstalled store already says why (ShopifyCredentials marked it); a refused pasted token says so here.
            await db.Stores.Where(s => s.Id == storeId && s.Status == StoreStatus.Active)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.ConnectionError, e.Message), ct);
            await FinishAsync(db, run, "failed", e.Message, ct);
        }
        catch (Exception e) when (DatabaseFaults.IsOutage(e))
        {
            // The database went away under the run (a restart, a failover). It is not the merchant's failure, and nothing can
            // be recorded now anyway: a run marked failed here would hold every later sync back until someone asked again,
            // and one whose mark failed would stay "running" for good. So the run stays running, and the job is retried.
            logger.LogWarning(e, "Sync {RunId} of store {StoreId} lost its database; the job is retried and resumes the run", run.Id, storeId);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A killed or cancelled worker leaves the run "running" with its checkpoint, to be resumed.
            logger.LogWarning(e, "Sync {RunId} of store {StoreId} failed", run.Id, storeId);
            await FinishAsync(db, run, "failed", MerchantMessage(e), ct);
        }
    }

    /// <summary>The checkpoint of a run whose pages are all stored.</summary>
    private const string Done = "done";

    private static async Task MarkPagedAsync(XenoDb db, SyncRun run, CancellationToken ct)
    {
        run.CheckpointKind = Done;
        run.CheckpointCursor = null;
        await db.SaveChangesAsync(ct);
    }

    private async Task SyncKindAsync(XenoDb db, SyncRun run, List<string> kinds, string kind, string? cursor, CancellationToken ct)
    {
        var (document, pageSize) = kind switch
        {
            "products" => (ShopifyQueries.Products, ShopifyQueries.ProductsPageSize),
            "customers" => (ShopifyQueries.Customers, 100),
            "orders" => (ShopifyQueries.Orders, ShopifyQueries.OrdersPageSize),
            _ => (ShopifyQueries.AbandonedCheckouts, 100),
        };
        // Overlap a few minutes: records updated while the previous run read are fetched again.
        var filter = run.UpdatedSince is { } since ? $"updated_at:>='{(since - Overlap).UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}'" : null;
        while (true)
        {
            var data = await credentials.QueryAsync(run.TenantId, document, new { first = pageSize, after = cursor, query = filter }, ct);
            var connection = data[kind] ?? throw new ShopifyApiException($"Shopify answered without {kind}.");
            var nodes = GraphQlMapping.Nodes(connection).ToList();
            var pageInfo = connection["pageInfo"];
            var hasNext = pageInfo?["hasNextPage"]?.GetValue<bool>() == true;
            var nextCursor = pageInfo?["endCursor"]?.GetValue<string>();

            OrderBatch? orders = null;
            if (kind == "orders")
            {
                orders = new OrderBatch();
                foreach (var node in nodes)
                {
                    var order = GraphQlMapping.Order(node, orders);
                    await FetchRemainingLinesAsync(run.TenantId, node, order.Id, orders, ct);
                }
            }

            await StorePageAsync(db, run, kinds, kind, nodes, orders, hasNext ? nextCursor : null, hasNext, ct);
            if (!hasNext) return;
            cursor = nextCursor;
        }
    }

    private async Task FetchRemainingLinesAsync(Guid storeId, JsonNode order, long orderId, OrderBatch batch, CancellationToken ct)
    {
        var page = order["lineItems"]?["pageInfo"];
        while (page?["hasNextPage"]?.GetValue<bool>() == true)
        {
            var data = await credentials.QueryAsync(storeId, ShopifyQueries.OrderLineItems,
                new { id = ShopifyIds.ToGid("Order", orderId), after = page["endCursor"]?.GetValue<string>() }, ct);
            var lines = data["order"]?["lineItems"];
            foreach (var line in GraphQlMapping.Nodes(lines)) batch.Lines.Add(GraphQlMapping.LineItem(line, orderId));
            page = lines?["pageInfo"];
        }
    }

    private static Task StorePageAsync(XenoDb db, SyncRun run, List<string> kinds, string kind, List<JsonNode> nodes, OrderBatch? orders,
        string? nextCursor, bool hasNext, CancellationToken ct) =>
        db.WriteAsync(run.TenantId, async writer =>
        {
            switch (kind)
            {
                case "products":
                    var products = new ProductBatch();
                    foreach (var n in nodes) GraphQlMapping.Product(n, products);
                    await writer.UpsertProductsAsync(products, ct);
                    run.FetchedProducts += nodes.Count;
                    break;
                case "customers":
                    await writer.UpsertCustomersAsync(nodes.Select(GraphQlMapping.Customer).ToList(), ct);
                    run.FetchedCustomers += nodes.Count;
                    break;
                case "orders":
                    await writer.UpsertOrdersAsync(orders!, ct);
                    run.FetchedOrders += nodes.Count;
                    break;
                default:
                    await writer.UpsertCheckoutsAsync(nodes.Select(GraphQlMapping.Checkout).ToList(), ct);
                    run.FetchedAbandonedCheckouts += nodes.Count;
                    break;
            }
            run.PagesFetched++;
            // The checkpoint names where to go on: the next page of this kind, the start of the next kind, or done;
            // it is saved in the page's own transaction.
            var next = kinds.IndexOf(kind) + 1;
            run.CheckpointKind = hasNext ? kind : next < kinds.Count ? kinds[next] : Done;
            run.CheckpointCursor = hasNext ? nextCursor : null;
        }, ct);

    private async Task FinishAsync(XenoDb db, SyncRun run, string status, string? error, CancellationToken ct)
    {
        run.Status = status;
        run.Error = error;
        run.FinishedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
    }

    /// <summary>A connection lost or refused, or the server shutting down or starting (Npgsql's transient failures), however
    /// deep EF Core wrapped it.</summary>
    private static string MerchantMessage(Exception e) => e switch
    {
        ShopifyApiException api => api.Message,
        HttpRequestException or TimeoutException => "Xeno could not reach Shopify. The next sync will try again.",
        NotSupportedException ns => ns.Message,
        _ => "The sync stopped on an unexpected error. The next sync will try again.",
    };
}
