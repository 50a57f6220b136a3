using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Webhooks;

/// <summary>The store's settings page: connection, webhook subscriptions and failures, privacy requests.</summary>
public static class GetSettings
{
    public sealed record FailedDelivery(Guid Id, string Topic, DateTimeOffset ReceivedAt, int Attempts, string? Error);
    public sealed record DataRequestRow(Guid Id, long CustomerId, DateTimeOffset RequestedAt);

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, TenantContext tenant, ShopifyCredentials credentials,
        IConfiguration config, CancellationToken ct) =>
        StoreSettingsPage.Create(await BuildAsync(http, db, tenant, credentials, config, null, ct));

    public static async Task<StoreSettingsModel> BuildAsync(HttpContext http, XenoDb db, TenantContext tenant, ShopifyCredentials credentials,
        IConfiguration config, string? message, CancellationToken ct)
    {
        var store = await GetStore.QueryAsync(db, tenant);
        var connection = await ShopifyCredentials.DescribeAsync(db, ct);
        IReadOnlyList<RegisterWebhooks.Subscription>? subscriptions = null;
        string? subscriptionError = null;
        if (store.Status == StoreStatus.Active)
        {
            try { subscriptions = await RegisterWebhooks.ListAsync(db, credentials, ct); }
            catch (Exception e) when (e is ShopifyApiException or ShopifyAuthException or HttpRequestException)
            {
                subscriptionError = "Xeno could not ask Shopify for this store's webhook subscriptions: " + e.Message;
            }
        }
        var failed = await db.WebhookDeliveries.AsNoTracking().Where(d => d.Status == "failed").OrderByDescending(d => d.ReceivedAt).Take(20)
            .Select(d => new FailedDelivery(d.Id, d.Topic, d.ReceivedAt, d.Attempts, d.LastError)).ToListAsync(ct);
        var requests = await db.CustomerDataRequests.AsNoTracking().OrderByDescending(r => r.RequestedAt).Take(50)
            .Select(r => new DataRequestRow(r.Id, r.CustomerId, r.RequestedAt)).ToListAsync(ct);
        return new StoreSettingsModel(http.User.Identity!.Name!, StoreResponse.From(store), connection, store.ConnectionError,
            RegisterWebhooks.CallbackUrl(config), subscriptions, subscriptionError, failed, requests, message);
    }

    public static async Task<IResult> RepairAsync(HttpContext http, XenoDb db, TenantContext tenant, ShopifyCredentials credentials,
        IConfiguration config, CancellationToken ct)
    {
        string message;
        try
        {
            var created = await RegisterWebhooks.EnsureAsync(db, credentials, config, ct);
            message = RegisterWebhooks.CallbackUrl(config) is null
                ? "App__PublicUrl is not set, so Xeno cannot tell Shopify where to send webhooks."
                : await ShopifyCredentials.DescribeAsync(db, ct) is not { ReceivesWebhooks: true }
                    ? NoWebhooksMessage
                    : created == 0 ? "Every webhook subscription was already in place." : $"{created} webhook subscriptions created.";
        }
        catch (Exception e) when (e is ShopifyApiException or ShopifyAuthException or HttpRequestException)
        {
            message = "Repairing webhooks failed: " + e.Message;
        }
        return StoreSettingsPage.Create(await BuildAsync(http, db, tenant, credentials, config, message, ct));
    }

    public const string NoWebhooksMessage =
        "This store was connected with an access token alone, so Xeno cannot verify its app's webhooks and subscribes to none. " +
        "Its data arrives with the scheduled sync instead. To see changes live, connect it again with the app's API secret.";

    /// <summary>Everything Xeno keeps of the customer named in a data request, as JSON for the merchant to send on: the
    /// customer row, their orders with lines and refunds, their checkouts, the privacy requests about them, and every
    /// stored webhook body about them, as Shopify sent it.</summary>
    public static async Task<IResult> DownloadDataRequestAsync(Guid requestId, XenoDb db, CancellationToken ct)
    {
        var request = await db.CustomerDataRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null) return TypedResults.NotFound();
        var customerId = request.CustomerId;
        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == customerId, ct);
        var orderIds = await db.Orders.AsNoTracking().Where(o => o.CustomerId == customerId || request.OrdersRequested.Contains(o.Id))
            .Select(o => o.Id).ToListAsync(ct);
        var orders = await db.Orders.AsNoTracking().Where(o => orderIds.Contains(o.Id)).OrderBy(o => o.ProcessedAt).ToListAsync(ct);
        var lines = (await db.OrderLines.AsNoTracking().Where(l => orderIds.Contains(l.OrderId)).ToListAsync(ct)).ToLookup(l => l.OrderId);
        var refunds = (await db.Refunds.AsNoTracking().Where(r => orderIds.Contains(r.OrderId)).ToListAsync(ct)).ToLookup(r => r.OrderId);
        var refundLines = (await db.RefundLines.AsNoTracking().Where(r => orderIds.Contains(r.OrderId)).ToListAsync(ct)).ToLookup(r => r.RefundId);
        var checkouts = await db.Checkouts.AsNoTracking().Where(c => c.CustomerId == customerId).OrderBy(c => c.CreatedAt).ToListAsync(ct);
        var requests = await db.CustomerDataRequests.AsNoTracking().Where(r => r.CustomerId == customerId).OrderBy(r => r.RequestedAt).ToListAsync(ct);
        var subject = CustomerData.Subject.Of(customerId, orderIds.Concat(request.OrdersRequested), customer?.Email, customer?.Phone);
        var deliveries = await CustomerData.DeliveriesAsync(db, subject, tracked: false, ct);

        static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var export = new
        {
            requestedAt = request.RequestedAt,
            customer = customer is null ? null : new
            {
                id = Id(customer.Id), customer.FirstName, customer.LastName, customer.Email, customer.Phone,
                customer.CreatedAt, updatedAt = customer.ShopifyUpdatedAt, customer.RfmGroup, customer.DeletedAt, customer.RedactedAt,
            },
            orders = orders.Select(o => new
            {
                id = Id(o.Id), o.Name, customerId = o.CustomerId is { } c ? Id(c) : null, o.ProcessedAt, o.CreatedAt, o.CancelledAt, o.Test,
                o.Currency, o.PresentmentCurrency, o.TotalPrice, o.CurrentTotalPrice, o.ShippingPrice, o.TotalTax, o.TotalDiscounts,
                o.CheckoutToken, updatedAt = o.ShopifyUpdatedAt, o.DeletedAt,
                lines = lines[o.Id].Select(l => new
                {
                    id = Id(l.Id), productId = l.ProductId is { } p ? Id(p) : null, variantId = l.VariantId is { } v ? Id(v) : null,
                    l.Title, l.Quantity, l.OriginalUnitPrice, l.DiscountAllocated, l.IsGiftCard,
                }),
                refunds = refunds[o.Id].Select(r => new
                {
                    id = Id(r.Id), r.CreatedAt, r.ShippingRefunded, r.ShippingTaxRefunded,
                    lines = refundLines[r.Id].Select(l => new { lineItemId = Id(l.LineItemId), l.Quantity, l.Subtotal, l.TotalTax }),
                }),
            }),
            checkouts = checkouts.Select(c => new
            {
                id = Id(c.Id), c.Token, c.CreatedAt, c.CompletedAt, c.TotalPrice, updatedAt = c.ShopifyUpdatedAt, c.DeletedAt,
            }),
            dataRequests = requests.Select(r => new
            {
                shopifyRequestId = r.ShopifyRequestId is { } i ? Id(i) : null, ordersRequested = r.OrdersRequested.Select(Id), r.RequestedAt,
            }),
            // As received: Shopify's own JSON, byte for byte (kept a week, or until a customers/redact empties it).
            webhookDeliveries = deliveries.Select(d => new
            {
                d.Delivery.Topic, d.Delivery.ReceivedAt, d.Delivery.TriggeredAt, d.Delivery.Status, body = d.Delivery.Body,
            }),
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(export, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
        return TypedResults.File(json, "application/json", $"customer-{request.CustomerId}-data.json");
    }
}

public sealed record StoreSettingsModel(
    string UserEmail, StoreResponse Store, CredentialSummary? Connection, string? ConnectionError, string? CallbackUrl, IReadOnlyList<RegisterWebhooks.Subscription>? Subscriptions,
    string? SubscriptionError, IReadOnlyList<GetSettings.FailedDelivery> Failed, IReadOnlyList<GetSettings.DataRequestRow> DataRequests,
    string? Message);
