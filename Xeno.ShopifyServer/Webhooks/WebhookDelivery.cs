namespace Xeno.ShopifyServer;

/// <summary>
/// One HTTP attempt to deliver a webhook. Retries of a delivery keep its <see cref="WebhookId"/> and
/// <see cref="EventId"/> and count <see cref="Attempt"/> up; a deliberate duplicate keeps both ids too
/// and is marked <see cref="Duplicate"/>.
/// </summary>
public sealed record WebhookDelivery
{
    public required string ShopDomain { get; init; }
    /// <summary>The app that owns the subscription (or whose TOML URL it is), whose secret signed it.</summary>
    public required string AppClientId { get; init; }
    /// <summary>The header form, e.g. <c>orders/create</c>.</summary>
    public required string Topic { get; init; }
    public required string Uri { get; init; }
    public required string WebhookId { get; init; }
    public required string EventId { get; init; }
    public required DateTimeOffset TriggeredAt { get; init; }
    public required DateTimeOffset SentAt { get; init; }
    /// <summary>1 for the first try, 2 for the first retry, …</summary>
    public required int Attempt { get; init; }
    public required bool Duplicate { get; init; }
    /// <summary>True when this attempt was signed with the app's previous secret (<see cref="WebhookEmitter.PreviousAppSecret"/> for the default app).</summary>
    public required bool SignedWithPreviousSecret { get; init; }
    /// <summary>The X-Shopify-Hmac-Sha256 header sent.</summary>
    public required string Hmac { get; init; }
    /// <summary>The exact bytes sent, as UTF-8 text (slashes escaped as <c>\/</c>).</summary>
    public required string Body { get; init; }
    /// <summary>The receiver's status; null when no response arrived (refused, timed out).</summary>
    public int? StatusCode { get; init; }
    public string? Error { get; init; }

    public bool Succeeded => StatusCode is >= 200 and < 300;
}
