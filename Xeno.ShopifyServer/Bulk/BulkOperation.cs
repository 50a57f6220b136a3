namespace Xeno.ShopifyServer.Model;

/// <summary>
/// Shopify's <c>BulkOperation</c> as it stood at one moment: resolvers answer from one such snapshot, so a poll
/// never sees, say, COMPLETED without its <see cref="Url"/>. Take a fresh one with <c>shop.Bulk.Find(id)</c>.
/// </summary>
public sealed class BulkOperation : GraphModel
{
    /// <summary>A <c>BulkOperationStatus</c>: CREATED, RUNNING, COMPLETED, CANCELING, CANCELED, FAILED or EXPIRED.</summary>
    public required string Status { get; init; }

    /// <summary>A <c>BulkOperationErrorCode</c> (ACCESS_DENIED, INTERNAL_SERVER_ERROR, TIMEOUT) when FAILED.</summary>
    public string? ErrorCode { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the operation finished: completed, failed or canceled.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Lines written so far (parents and children); the schema's UnsignedInt64, a string in JSON.</summary>
    public long ObjectCount { get; init; }

    /// <summary>Lines of the top-level connection written so far.</summary>
    public long RootObjectCount { get; init; }

    /// <summary>Bytes of the file at <see cref="Url"/>; null until it exists.</summary>
    public long? FileSize { get; init; }

    public string? Url { get; init; }

    public string? PartialDataUrl { get; init; }

    public required string Query { get; init; }

    /// <summary>A <c>BulkOperationType</c>; this server runs queries only.</summary>
    public string Type => "QUERY";

    /// <summary>Whether children follow their parent directly in the file.</summary>
    public bool GroupObjects { get; init; }

    /// <summary>The app whose token started it: only that app sees it.</summary>
    public required string AppClientId { get; init; }

    /// <summary>True while it may still produce a file: CREATED, RUNNING or CANCELING.</summary>
    public bool InProgress => Status is "CREATED" or "RUNNING" or "CANCELING";

    internal override IComparable? SortValue(string sortKey) => sortKey switch
    {
        "CREATED_AT" => CreatedAt,
        "COMPLETED_AT" => CompletedAt,
        _ => base.SortValue(sortKey),
    };

    internal override object? SearchValue(string field) => field switch
    {
        "status" => Status.ToLowerInvariant(),
        "operation_type" => Type.ToLowerInvariant(),
        "created_at" => CreatedAt,
        "completed_at" => CompletedAt,
        _ => base.SearchValue(field),
    };
}
