using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// Applies one stored delivery. Idempotent: a processed delivery is skipped, and every write is an
/// upsert guarded by Shopify's updatedAt, so a retry, a duplicate or a late delivery changes nothing
/// that newer data already set. A failure is recorded on the delivery (shown on the settings page) and
/// rethrown so that Hangfire retries it; the stored delivery is never lost.
/// </summary>
public sealed class ProcessWebhook(IServiceScopeFactory scopes, TimeProvider clock, ILogger<ProcessWebhook> logger)
{
    [Queue("webhooks")]
    [AutomaticRetry(Attempts = 10)]
    public async Task RunAsync(Guid storeId, Guid deliveryId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(storeId);
        var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
        var delivery = await db.WebhookDeliveries.FirstOrDefaultAsync(d => d.Id == deliveryId, ct);
        if (delivery is null || delivery.Status is "processed" or "ignored") return;

        delivery.Attempts++;
        try
        {
            var body = JsonNode.Parse(delivery.Body ?? "{}") ?? new JsonObject();
            if (delivery.Topic == "shop/redact")
            {
                // Everything of the shop goes, this delivery with it (the tenant tables cascade from the store).
                await db.Stores.Where(s => s.Id == storeId).ExecuteDeleteAsync(ct);
                logger.LogInformation("Store {StoreId} erased on shop/redact", storeId);
                return;
            }
            var at = delivery.TriggeredAt ?? delivery.ReceivedAt;
            await db.WriteAsync(storeId, writer => ApplyAsync(db, writer, delivery, body, at, ct), ct);
            delivery.Status = "processed";
            delivery.ProcessedAt = clock.GetUtcNow();
            delivery.LastError = null;
            await db.SaveChangesAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            db.ChangeTracker.Clear();
            await db.WebhookDeliveries.Where(d => d.Id == deliveryId).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, "failed").SetProperty(d => d.Attempts, delivery.Attempts)
                .SetProperty(d => d.LastError, $"{e.GetType().Name}: {e.Message}"), CancellationToken.None);
            logger.LogWarning(e, "Webhook {DeliveryId} ({Topic}) failed on try {Attempt}", deliveryId, delivery.Topic, delivery.Attempts);
            throw;
        }
    }

    private async Task ApplyAsync(XenoDb db, ShopDataWriter writer, WebhookDelivery delivery, JsonNode body, DateTimeOffset at, CancellationToken ct)
    {
        switch (delivery.Topic)
        {
            case "orders/create" or "orders/updated" or "orders/cancelled":
                var orders = new OrderBatch();
                RestMapping.Order(body, orders);
                await writer.UpsertOrdersAsync(orders, ct);
                await writer.CompleteCheckoutsAsync(orders.Orders, ct);
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
                await ShopifyCredentials.MarkUninstalledAsync(db, delivery.TenantId,
                    "Xeno was uninstalled from this shop. Reinstall it to resume syncing; the data Xeno holds is kept.", ct);
                break;
            case "customers/redact":
                await RedactCustomerAsync(db, delivery, body, ct);
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

    /// <summary>customers/redact: the customer's personal data goes, from the customer row and from every
    /// stored webhook body that carried it; the anonymous amounts of their orders stay, so past sales hold.</summary>
    private async Task RedactCustomerAsync(XenoDb db, WebhookDelivery delivery, JsonNode body, CancellationToken ct)
    {
        var customerId = RestMapping.Long(body["customer"]?["id"]) ?? throw new FormatException("customers/redact without a customer id.");
        var email = RestMapping.Str(body["customer"]?["email"]);
        var phone = RestMapping.Str(body["customer"]?["phone"]);
        var now = clock.GetUtcNow();
        await db.Customers.Where(c => c.Id == customerId).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.FirstName, (string?)null).SetProperty(c => c.LastName, (string?)null)
            .SetProperty(c => c.Email, (string?)null).SetProperty(c => c.Phone, (string?)null)
            .SetProperty(c => c.RedactedAt, now), ct);
        // A customer Xeno never stored still gets a redacted row, so that a late customers/update cannot bring the data back.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO customers (tenant_id, id, shopify_updated_at, redacted_at) VALUES ({delivery.TenantId}, {customerId}, {now}, {now})
            ON CONFLICT DO NOTHING
            """, ct);

        // Applied bodies that name the customer (by id, email or phone) lose their body; this one too.
        // REVIEW: a delivery still pending keeps its body until it is applied and the next redact or the weekly prune.
        var idText = customerId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await db.WebhookDeliveries
            .Where(d => d.Body != null && (d.Id == delivery.Id || ((d.Status == "processed" || d.Status == "ignored")
                && (d.Body.Contains(idText) || (email != null && d.Body.Contains(email)) || (phone != null && d.Body.Contains(phone))))))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Body, (string?)null), ct);
        delivery.Body = null;
    }

    /// <summary>Queues what was stored but never queued (a crash between the two) or failed for good;
    /// runs every minute, so a stored delivery is always processed in the end.</summary>
    [Queue("webhooks")]
    public async Task SweepAsync(CancellationToken ct)
    {
        List<Guid> storeIds;
        await using (var scope = scopes.CreateAsyncScope())
            storeIds = await scope.ServiceProvider.GetRequiredService<XenoDb>().Stores.Select(s => s.Id).ToListAsync(ct);
        var cutoff = clock.GetUtcNow().AddMinutes(-2);
        foreach (var storeId in storeIds)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(storeId);
            var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
            var stuck = await db.WebhookDeliveries.Where(d => d.Status == "pending" && d.ReceivedAt < cutoff).Select(d => d.Id).Take(500).ToListAsync(ct);
            var jobs = scope.ServiceProvider.GetRequiredService<IBackgroundJobClient>();
            foreach (var id in stuck) jobs.Enqueue<ProcessWebhook>(job => job.RunAsync(storeId, id, CancellationToken.None));

            // Processed deliveries are kept a week (to answer "what did Shopify send?"), then pruned.
            var keepUntil = clock.GetUtcNow().AddDays(-7);
            await db.WebhookDeliveries.Where(d => (d.Status == "processed" || d.Status == "ignored") && d.ReceivedAt < keepUntil).ExecuteDeleteAsync(ct);
        }
    }
}
