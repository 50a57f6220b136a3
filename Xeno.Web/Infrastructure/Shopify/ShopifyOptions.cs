using System.Text.RegularExpressions;

namespace Xeno.Web.Infrastructure.Shopify;

public sealed class ShopifyOptions
{
    /// <summary>Origin of a shop's Admin API; <c>{shop}</c> is replaced by the myshopify domain.</summary>
    public string ApiBaseUrl { get; set; } = "https://{shop}";
    public string ApiVersion { get; set; } = "2026-10";
    public string? ApiKey { get; set; }
    public string? ApiSecret { get; set; }

    /// <summary>What the install asks the merchant to approve. Without read_all_orders Shopify shows only the last 60 days of orders.</summary>
    public string Scopes { get; set; } = "read_products,read_customers,read_orders,read_all_orders";

    /// <summary>After a secret rotation Shopify may sign with the old secret for up to an hour: webhooks
    /// signed with this one are accepted until <see cref="PreviousApiSecretExpiresAt"/>.</summary>
    public string? PreviousApiSecret { get; set; }
    public DateTimeOffset? PreviousApiSecretExpiresAt { get; set; }

    /// <summary>The app secrets Shopify may sign with now: the current one, and the previous one inside its rotation window.</summary>
    public IEnumerable<string> AppSecrets(DateTimeOffset now)
    {
        if (ApiSecret is { Length: > 0 } current) yield return current;
        if (PreviousApiSecret is { Length: > 0 } previous && (PreviousApiSecretExpiresAt is null || PreviousApiSecretExpiresAt > now))
            yield return previous;
    }

    /// <summary>Tries per call when Shopify fails (5xx, timeout, dropped connection) before giving up.
    /// Throttling has its own budget, <see cref="MaxThrottledRetries"/>: waiting out the bucket is normal work, not failure.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Retries per call after THROTTLED or HTTP 429. High, because each one waits as long as Shopify asks;
    /// bounded so that a shop drained by another app cannot hold a sync forever.</summary>
    public int MaxThrottledRetries { get; set; } = 30;

    /// <summary>First backoff ceiling after a failure; it doubles per failure up to <see cref="RetryMaxDelay"/>, with full jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest one request may take, body included, before it counts as a failed try.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound on a 429's Retry-After, so a malformed header cannot park a sync for hours.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(2);
}

public static partial class ShopDomain
{
    /// <summary>Only <c>name.myshopify.com</c>: Xeno never sends a merchant's token, or any request,
    /// to a host a user typed freely.</summary>
    // \z, not $: "$" would also match before a trailing newline.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9\-_]*\.myshopify\.com\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryNormalize(string? input, out string domain)
    {
        // Spaces around a pasted domain are forgiven; control characters are not.
        domain = (input ?? "").Trim(' ').ToLowerInvariant();
        if (domain.StartsWith("https://")) domain = domain["https://".Length..];
        domain = domain.TrimEnd('/');
        return domain.Length <= 255 && Pattern().IsMatch(domain);
    }
}
