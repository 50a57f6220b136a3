using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// What each topic does to the store's data. <see cref="InboxWorker"/> calls it for every delivery of a batch, inside
/// the batch's transaction and the delivery's own savepoint. Idempotent: every write is an upsert guarded by Shopify's
/// updatedAt, deletes are final and refunds are kept by id, so a retry, a duplicate or a late delivery changes nothing
/// that newer data already set. The sweeper keeps the inbox: it prunes what was applied, and marks stores whose failed
/// deliveries are due for another try.
/// </summary>
public sealed class ProcessWebhook(IServiceScopeFactory scopes, TimeProvider clock)
{
    /// <summary>How a delivery ended.</summary>
    public enum Result
    {
        Applied,
        /// <summary>Recorded and not applied (<see cref="DeliveryChecks"/>): nothing changed.</summary>
        Ignored,
        /// <summary>shop/redact deleted the store, its deliveries with it: the store's batch stops here.</summary>
        StoreErased,
    }

    /// <summary>How a delivery ended, and why it was ignored when it was.</summary>
    public readonly record struct Outcome(Result Result, string? IgnoredReason = null);

    /// <summary>Applies <paramref name="delivery"/> with <paramref name="db"/> and <paramref name="writer"/>, both on the
    /// batch's connection and transaction with its tenant set. <paramref name="appliedEarlier"/> are deliveries of the
    /// same batch applied before this one (their rows still say pending until the batch commits).</summary>
    public static async Task<Outcome> ApplyAsync(XenoDb db, ShopDataWriter writer, WebhookDelivery delivery,
        IReadOnlyCollection<Guid> appliedEarlier, DateTimeOffset now, ILogger logger, CancellationToken ct)
    {
        var (body, refusal) = await ReadAsync(db, delivery, now, logger, ct);
        if (refusal is not null) return new Outcome(Result.Ignored, refusal);
        if (delivery.Topic == "shop/redact")
        {
            // Everything of the shop goes, this delivery with it (the tenant tables cascade from the store).
            await db.Stores.Where(s => s.Id == delivery.TenantId).ExecuteDeleteAsync(ct);
            logger.LogInformation("Store {StoreId} erased on shop/redact", delivery.TenantId);
            return new Outcome(Result.StoreErased);
        }
        var at = delivery.TriggeredAt ?? delivery.ReceivedAt;
        await ApplyAsync(db, writer, delivery, body, at, appliedEarlier, now, ct);
        if (db.ChangeTracker.HasChanges()) await db.SaveChangesAsync(ct);
        return new Outcome(Result.Applied);
    }

    /// <summary>The Hangfire job that processed one delivery before the inbox became the queue. Jobs queued by an older
    /// version still arrive for a while after an upgrade, with nothing left to do: their delivery is in the inbox, and the
    /// workers apply it (the sweeper marks its store if nothing else has).
    /// REVIEW: remove once no deployment can still hold such jobs.</summary>
    [Queue("webhooks")]
    public Task RunAsync(Guid storeId, Guid deliveryId, CancellationToken ct) => Task.CompletedTask;

    /// <summary>The delivery's body, and why it is not to be applied (<see cref="DeliveryChecks"/>, logged), or null.</summary>
    public static async Task<(JsonNode Body, string? Refusal)> ReadAsync(XenoDb db, WebhookDelivery delivery, DateTimeOffset now,
        ILogger logger, CancellationToken ct)
    {
        var body = JsonNode.Parse(delivery.Body ?? "{}") ?? new JsonObject();
        var refusal = await DeliveryChecks.RefusalAsync(db, delivery, body, now, ct);
        if (refusal is not null) logger.LogWarning("Webhook {DeliveryId} ({Topic}) ignored: {Reason}", delivery.Id, delivery.Topic, refusal);
        return (body, refusal);
    }

    /// <summary>What an order topic writes, for one order or a run of them (<see cref="OrderRun"/>): the orders with their
    /// lines and refunds, and the checkouts they complete.</summary>
    public static async Task WriteOrdersAsync(ShopDataWriter writer, OrderBatch orders, CancellationToken ct)
    {
        await writer.UpsertOrdersAsync(orders, ct);
        await writer.CompleteCheckoutsAsync(orders.Orders, ct);
    }

    private static async Task ApplyAsync(XenoDb db, ShopDataWriter writer, WebhookDelivery delivery, JsonNode body, DateTimeOffset at,
        IReadOnlyCollection<Guid> appliedEarlier, DateTimeOffset now, CancellationToken ct)
    {
        switch (delivery.Topic)
        {
            case var topic when OrderRun.Takes(topic):
                var orders = new OrderBatch();
                RestMapping.Order(body, orders);
                await WriteOrdersAsync(writer, orders, ct);
                break;
            case "orders/delete":
                await writer.MarkDeletedAsync("orders", RestMapping.Id(body), at, ct);
                break;
            case "refunds/create":
                var refunds = new OrderBatch();
                RestMapping.Refund(body, null, refunds);
                await writer.UpsertRefundsAsync(refunds, ct);
                break;
            case "products/create" or "products/update":
                var products = new ProductBatch();
                RestMapping.Product(body, products);
                await writer.UpsertProductsAsync(products, ct);
                break;
            case "products/delete":
                await writer.MarkDeletedAsync("products", RestMapping.Id(body), at, ct);
                break;
            case "customers/create" or "customers/update":
                await writer.UpsertCustomersAsync([RestMapping.Customer(body)], ct);
                break;
            case "customers/delete":
                await writer.MarkDeletedAsync("customers", RestMapping.Id(body), at, ct);
                break;
            case "checkouts/create" or "checkouts/update":
                await writer.UpsertCheckoutsAsync([RestMapping.Checkout(body)], ct);
                break;
            case "checkouts/delete":
                await writer.MarkDeletedAsync("checkouts", RestMapping.CheckoutId(body), at, ct);
                break;
            case "carts/create" or "carts/update":
                // Online-store carts carry no customer, no checkout and no price Xeno reports on: stored in
                // the inbox as received, nothing more. REVIEW: cart-to-checkout funnels would start here.
                break;
            case "app/uninstalled":
                // Shopify has revoked the tokens already; the data stays for a reinstall (shop/redact erases it 48 h later).
                // An uninstall from before the credentials Xeno holds now (Shopify retrying it after a reinstall, or the
                // inbox behind one) revoked earlier ones: it must not end the new installation.
                var uninstalledAt = DeliveryChecks.UninstalledAt(delivery);
                if (await db.StoreCredentials.AnyAsync(c => c.UpdatedAt > uninstalledAt, ct)) break;
                await ShopifyCredentials.MarkUninstalledAsync(db, delivery.TenantId,
                    "Xeno was uninstalled from this shop. Reinstall it to resume syncing; the data Xeno holds is kept.",
                    uninstalledAt, ct);
                break;
            case "customers/redact":
                await RedactCustomerAsync(db, delivery, body, appliedEarlier, now, ct);
                break;
            case "customers/data_request":
                db.CustomerDataRequests.Add(new CustomerDataRequest
                {
                    Id = Guid.CreateVersion7(), CustomerId = RestMapping.Long(body["customer"]?["id"]) ?? 0,
                    ShopifyRequestId = RestMapping.Long(body["data_request"]?["id"]),
                    OrdersRequested = RestMapping.Array(body["orders_requested"]).Select(o => RestMapping.Long(o) ?? 0).ToList(),
                    RequestedAt = at,
                });
                break;
        }
    }

    /// <summary>customers/redact: the customer's personal data goes, from the customer row and from every stored webhook
    /// body that carried it, whatever the delivery's status; the anonymous amounts of their orders stay, so past sales hold.
    /// A delivery applied already (or never to be: failed for good) loses its body. One still to be applied (pending, or
    /// failed with a try to come) keeps a body stripped of the personal data, so that its order still counts when it is
    /// applied; and the customer row, marked redacted, takes no personal data from it or any later delivery.</summary>
    private static async Task RedactCustomerAsync(XenoDb db, WebhookDelivery delivery, JsonNode body, IReadOnlyCollection<Guid> appliedEarlier,
        DateTimeOffset now, CancellationToken ct)
    {
        var customerId = RestMapping.Long(body["customer"]?["id"]) ?? throw new FormatException("customers/redact without a customer id.");
        var email = RestMapping.Str(body["customer"]?["email"]);
        var phone = RestMapping.Str(body["customer"]?["phone"]);
        var stored = await db.Customers.AsNoTracking().Where(c => c.Id == customerId).Select(c => new { c.Email, c.Phone }).FirstOrDefaultAsync(ct);
        var orders = await db.Orders.AsNoTracking().Where(o => o.CustomerId == customerId).Select(o => o.Id).ToListAsync(ct);
        orders.AddRange(RestMapping.Array(body["orders_to_redact"]).Select(o => RestMapping.Long(o)).OfType<long>());

        await db.Customers.Where(c => c.Id == customerId).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.FirstName, (string?)null).SetProperty(c => c.LastName, (string?)null)
            .SetProperty(c => c.Email, (string?)null).SetProperty(c => c.Phone, (string?)null)
            .SetProperty(c => c.RedactedAt, now), ct);
        // A customer Xeno never stored still gets a redacted row, so that a late customers/update cannot bring the data back.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO customers (tenant_id, id, shopify_updated_at, redacted_at) VALUES ({delivery.TenantId}, {customerId}, {now}, {now})
            ON CONFLICT DO NOTHING
            """, ct);

        // The details the request gives, and those Xeno held (the customer may have changed them since).
        var subject = CustomerData.Subject.Of(customerId, orders, email, phone, stored?.Email, stored?.Phone);
        foreach (var (other, otherBody) in await CustomerData.DeliveriesAsync(db, subject, tracked: true, ct))
        {
            var applied = other.Id == delivery.Id || appliedEarlier.Contains(other.Id)
                || other.Status is "processed" or "ignored" || other.Status == "failed" && other.NextAttemptAt is null;
            other.Body = applied || otherBody is null ? null : CustomerData.Strip(otherBody, subject).ToJsonString();
        }
        // This delivery's own row, whatever it matched, and its copy in the batch.
        await db.WebhookDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s.SetProperty(d => d.Body, (string?)null), ct);
        delivery.Body = null;
    }

    /// <summary>Every minute: marks the stores whose failed deliveries are due for another try (and, as a safety net,
    /// those with deliveries pending for over a minute, such as ones stored by a version that queued them in Hangfire),
    /// wakes the workers, and prunes applied, ignored and finally failed deliveries after a week.</summary>
    [Queue("webhooks")]
    public async Task SweepAsync(CancellationToken ct)
    {
        List<Guid> storeIds;
        await using (var scope = scopes.CreateAsyncScope())
            storeIds = await scope.ServiceProvider.GetRequiredService<XenoDb>().Stores.Select(s => s.Id).ToListAsync(ct);
        var now = clock.GetUtcNow();
        var stuckBefore = now.AddMinutes(-1);
        var keepUntil = now.AddDays(-7);
        var marked = 0;
        // REVIEW: one statement per store each minute (row-level security shows a role one store at a time); with many
        // thousands of stores, keep due retries in a table without a tenant, as webhook_pending is, instead.
        foreach (var storeId in storeIds)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(storeId);
            var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
            marked += await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO webhook_pending (store_id, updated_at)
                SELECT {storeId}, {now} WHERE EXISTS (
                  SELECT 1 FROM webhook_deliveries
                  WHERE tenant_id = {storeId} AND status IN ('pending', 'failed')
                    AND (status = 'pending' AND received_at < {stuckBefore} OR next_attempt_at <= {now}))
                ON CONFLICT DO NOTHING
                """, ct);

            // Deliveries done with are kept a week (to answer "what did Shopify send?"), then pruned: applied, ignored, and
            // failed for good (their bodies hold personal data too). A failed one with a try to come is still in the queue.
            // Rows a worker holds are skipped, not waited for (next minute will do): the worker's redact may be updating
            // some of them, in another order, and two such statements waiting on each other would deadlock.
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                DELETE FROM webhook_deliveries WHERE tenant_id = {storeId} AND id IN (
                  SELECT id FROM webhook_deliveries
                  WHERE tenant_id = {storeId} AND received_at < {keepUntil}
                    AND (status IN ('processed', 'ignored') OR status = 'failed' AND next_attempt_at IS NULL)
                  FOR UPDATE SKIP LOCKED)
                """, ct);
        }
        if (marked > 0)
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<XenoDb>().Database.ExecuteSqlRawAsync($"NOTIFY {WebhooksSetup.Channel}", ct);
        }
    }
}
