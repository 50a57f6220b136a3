namespace Xeno.ShopifyServer;

public enum OAuthFaultKind
{
    /// <summary>Answers 500 and changes nothing.</summary>
    Http500,

    /// <summary>Answers 503 and changes nothing.</summary>
    Http503,

    /// <summary>
    /// Performs the grant (a refresh rotates), then announces the full Content-Length, writes half the body and
    /// aborts the connection: the client never learns the tokens the server now holds.
    /// </summary>
    DropAfterIssue,

    /// <summary>Waits <see cref="OAuthFault.Duration"/>, then answers normally; orders concurrent requests in race tests.</summary>
    Delay,
}

/// <summary>A fault for the token endpoint (<c>/admin/oauth/access_token</c>).</summary>
public sealed record OAuthFault
{
    private OAuthFault(OAuthFaultKind kind, TimeSpan duration)
    {
        Kind = kind;
        Duration = duration;
    }

    public OAuthFaultKind Kind { get; }

    /// <summary>How long a <see cref="OAuthFaultKind.Delay"/> waits; zero for the other kinds.</summary>
    public TimeSpan Duration { get; }

    public static OAuthFault Http500 { get; } = new(OAuthFaultKind.Http500, TimeSpan.Zero);

    public static OAuthFault Http503 { get; } = new(OAuthFaultKind.Http503, TimeSpan.Zero);

    public static OAuthFault DropAfterIssue { get; } = new(OAuthFaultKind.DropAfterIssue, TimeSpan.Zero);

    public static OAuthFault Delay(TimeSpan duration) => new(OAuthFaultKind.Delay, duration);
}

/// <summary>One request to the token endpoint, as the server saw it.</summary>
/// <param name="GrantType"><c>authorization_code</c> when the request named none.</param>
/// <param name="Succeeded">True when the server issued tokens (even if a <see cref="OAuthFaultKind.DropAfterIssue"/> kept them from the client).</param>
/// <param name="Error">The OAuth error code answered (<c>invalid_grant</c>, …); <c>server_error</c> / <c>temporarily_unavailable</c> for an injected 500 / 503.</param>
/// <param name="Fault">The injected fault, if any.</param>
public sealed record OAuthTokenRequest(
    string ShopDomain, string ClientId, string GrantType, bool Succeeded, string? Error, DateTimeOffset At, OAuthFault? Fault);

/// <summary>
/// The switches and records of the OAuth endpoints: consent, the token request log and faults of the token
/// endpoint. Thread-safe; settable at any time.
/// </summary>
public sealed class ShopifyOAuthState
{
    private readonly Lock _lock = new();
    private readonly List<OAuthTokenRequest> _requests = [];
    private readonly List<(OAuthFault Fault, string? ShopDomain)> _faults = [];
    private int _spentRefreshTokenUses;

    /// <summary>When true, <c>/admin/oauth/authorize</c> approves at once (302 to the redirect) instead of showing the consent page.</summary>
    public bool AutoApprove { get; set; }

    /// <summary>How long an authorization code stays valid (Shopify: 10 minutes).</summary>
    public TimeSpan AuthorizationCodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Delay before every token endpoint answer.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>How many times a spent refresh token was presented (each one revoked its install's tokens).</summary>
    public int SpentRefreshTokenUses => Volatile.Read(ref _spentRefreshTokenUses);

    /// <summary>Every token endpoint request so far, oldest first.</summary>
    public IReadOnlyList<OAuthTokenRequest> TokenRequests
    {
        get { lock (_lock) return _requests.ToList(); }
    }

    public void ClearTokenRequests()
    {
        lock (_lock) _requests.Clear();
    }

    /// <summary>
    /// Makes the next <paramref name="times"/> token requests fail with <paramref name="fault"/>; only those for
    /// <paramref name="shopDomain"/> when given, so that tests sharing one server do not catch each other's faults.
    /// </summary>
    public void Enqueue(OAuthFault fault, int times = 1, string? shopDomain = null)
    {
        lock (_lock)
            for (var i = 0; i < times; i++)
                _faults.Add((fault, shopDomain));
    }

    /// <summary>Clears enqueued faults and the latency.</summary>
    public void ClearFaults()
    {
        lock (_lock)
        {
            _faults.Clear();
            Latency = TimeSpan.Zero;
        }
    }

    internal OAuthFault? NextFault(string shopDomain)
    {
        lock (_lock)
        {
            var index = _faults.FindIndex(f => f.ShopDomain is null || string.Equals(f.ShopDomain, shopDomain, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
                return null;
            var fault = _faults[index].Fault;
            _faults.RemoveAt(index);
            return fault;
        }
    }

    internal void Record(OAuthTokenRequest request)
    {
        lock (_lock) _requests.Add(request);
    }

    internal void CountSpentRefreshTokenUse() => Interlocked.Increment(ref _spentRefreshTokenUses);
}
