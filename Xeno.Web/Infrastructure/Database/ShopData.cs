using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Infrastructure.Database;

// What Xeno keeps of a store's Shopify data: exactly the fields METRICS.md needs, in shop money.
// Ids are Shopify's numeric ids (bigint: they exceed 2^53), money is numeric, times timestamptz.
// Every table is tenant-owned, keyed (tenant_id, id) so that each index leads with the tenant.
// ShopifyUpdatedAt guards every upsert: an older version never overwrites a newer one.

public sealed class ShopProduct : ITenantOwned
{
    public Guid TenantId { get; set; }
    public long Id { get; set; }
    public required string Title { get; set; }
    public string? Status { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
    public DateTimeOffset ShopifyUpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
}

public sealed class ShopProductVariant : ITenantOwned
{
    public Guid TenantId { get; set; }
    public long Id { get; set; }
    public long ProductId { get; set; }
    public string? Title { get; set; }
    public string? Sku { get; set; }
    public decimal? Price { get; set; }
}

public sealed class ShopCustomer : ITenantOwned
{
    public Guid TenantId { get; set; }
    public long Id { get; set; }
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? RfmGroup { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
    public DateTimeOffset ShopifyUpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
    public DateTimeOffset? RedactedAt { get; set; }
}

public sealed class ShopOrder : ITenantOwned
{
    public Guid TenantId { get; set; }
    public long Id { get; set; }
    public string? Name { get; set; }
    public long? CustomerId { get; set; }
    public DateTimeOffset ProcessedAt { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }
    public bool Test { get; set; }
    public string? Currency { get; set; }
    public string? PresentmentCurrency { get; set; }
    public decimal TotalPrice { get; set; }
    public decimal CurrentTotalPrice { get; set; }
    public decimal TotalPricePresentment { get; set; }
    public decimal ShippingPrice { get; set; }
    public decimal TotalTax { get; set; }
    public decimal TotalDiscounts { get; set; }
    public string? CheckoutToken { get; set; }
    public DateTimeOffset ShopifyUpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
    /// <summary>When a webhook or a paged sync last replaced the order's lines (database time): a bulk file started
    /// before that holds older lines, which must not overwrite them.</summary>
    public DateTimeOffset? LinesWrittenAt { get; set; }
}

public sealed class ShopOrderLine : ITenantOwned
{
    public Guid TenantId { get; set; }
    public long Id { get; set; }
    public long OrderId { get; set; }
    public long? ProductId { get; set; }
    public long? VariantId { get; set; }
    public string? Title { get; set; }
    public int Quantity { get; set; }
    public decimal OriginalUnitPrice { get; set; }
    /// <summary>Σ of the line's discount allocations, shop money.</summary>
    public decimal DiscountAllocated { get; set; }
    public bool IsGiftCard { get; set; }
}

public sealed class ShopRefund : ITenantOwned
{
    public Guid TenantId { get; set; }
    public long Id { get; set; }
    public long OrderId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public decimal ShippingRefunded { get; set; }
    public decimal ShippingTaxRefunded { get; set; }
    /// <summary>Known from its order (a bulk file or an orders page), its lines and shipping not yet fetched.</summary>
    public bool DetailsPending { get; set; }
}

public sealed class ShopRefundLine : ITenantOwned
{
    public Guid TenantId { get; set; }
    public long RefundId { get; set; }
    public long LineItemId { get; set; }
    public long OrderId { get; set; }
    public int Quantity { get; set; }
    public decimal Subtotal { get; set; }
    public decimal TotalTax { get; set; }
}

public sealed class ShopCheckout : ITenantOwned
{
    public Guid TenantId { get; set; }
    public long Id { get; set; }
    public string? Token { get; set; }
    public long? CustomerId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public decimal TotalPrice { get; set; }
    public DateTimeOffset ShopifyUpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
}

/// <summary>One sync of one store: what it fetched, where it stands (its checkpoint), how it ended.</summary>
public sealed class SyncRun : ITenantOwned
{
    public Guid TenantId { get; set; }
    public Guid Id { get; set; }
    public required string Mode { get; set; }
    public required string Status { get; set; }
    public DateTimeOffset QueuedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>Incremental runs fetch what changed at or after this instant.</summary>
    public DateTimeOffset? UpdatedSince { get; set; }
    /// <summary>The kind being fetched and the cursor after the last stored page: where a restarted worker resumes.</summary>
    public string? CheckpointKind { get; set; }
    public string? CheckpointCursor { get; set; }
    public int FetchedProducts { get; set; }
    public int FetchedCustomers { get; set; }
    public int FetchedOrders { get; set; }
    public int FetchedAbandonedCheckouts { get; set; }
    public int PagesFetched { get; set; }
    public string? Error { get; set; }
}

/// <summary>One bulk operation of a full sync, per kind of data: where Shopify's file is and how much of it Xeno has
/// stored, so that a restarted worker goes on from there (a Range request) while the file is still valid.</summary>
public sealed class SyncBulkFile : ITenantOwned
{
    public Guid TenantId { get; set; }
    public Guid RunId { get; set; }
    public required string Kind { get; set; }
    public required string OperationId { get; set; }
    /// <summary>running, completed (Shopify's), loaded (Xeno has it all), or failed (paged instead).</summary>
    public required string Status { get; set; }
    /// <summary>Database time when Xeno asked for the operation: lines written by others after it are newer than the file's.</summary>
    public DateTimeOffset StartedAt { get; set; }
    public string? Url { get; set; }
    public long ObjectCount { get; set; }
    public long LinesLoaded { get; set; }
    public long BytesLoaded { get; set; }
    public string? Error { get; set; }
}

/// <summary>A webhook delivery as Shopify sent it, stored before it is processed: the inbox that
/// makes intake durable and processing retryable, and the queue workers claim from (status
/// <c>pending</c>, or <c>failed</c> with a <see cref="NextAttemptAt"/> that has come). Duplicates are
/// refused by unique indexes on the event id and the webhook id.</summary>
public sealed class WebhookDelivery : ITenantOwned
{
    public Guid TenantId { get; set; }
    public Guid Id { get; set; }
    public required string Topic { get; set; }
    public required string ShopDomain { get; set; }
    public string? EventId { get; set; }
    public string? WebhookId { get; set; }
    public DateTimeOffset? TriggeredAt { get; set; }
    public string? ApiVersion { get; set; }
    /// <summary>The raw body, byte for byte as UTF-8 text; emptied when a privacy request asks for it.</summary>
    public string? Body { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    public required string Status { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? ProcessedAt { get; set; }
    public string? LastError { get; set; }
    /// <summary>Why a delivery of a handled topic was recorded and not applied (status <c>ignored</c>): its body's shop
    /// is another, a privacy request that came too late, a shop/redact before the uninstall is 48 hours old.</summary>
    public string? IgnoredReason { get; set; }
    /// <summary>When a failed delivery is tried again; null once it has used all its attempts.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }
}

/// <summary>A customer's request for their data (customers/data_request), for the merchant to answer.</summary>
public sealed class CustomerDataRequest : ITenantOwned
{
    public Guid TenantId { get; set; }
    public Guid Id { get; set; }
    public long CustomerId { get; set; }
    public long? ShopifyRequestId { get; set; }
    public List<long> OrdersRequested { get; set; } = [];
    public DateTimeOffset RequestedAt { get; set; }
}
