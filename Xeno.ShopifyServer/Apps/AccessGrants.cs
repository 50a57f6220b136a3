namespace Xeno.ShopifyServer;

/// <summary>
/// Every access token the server knows, each bound to one shop and one app. One lock guards all of them;
/// nothing is ever deleted (only marked), so a token keeps its app and history after a revocation.
/// </summary>
internal sealed class AccessGrants(TimeProvider clock)
{
    private readonly Lock _lock = new();
    // Keyed by shop and token: tokens added by hand (AddToken) may repeat the same string on several shops.
    private readonly Dictionary<(string Domain, string Token), AccessToken> _access = [];

    private DateTimeOffset Now => clock.GetUtcNow();

    private static (string, string) Key(string domain, string token) => (domain.ToLowerInvariant(), token);

    private static bool SameShop(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    public void Add(string domain, string token, ShopifyApp app, DateTimeOffset? expiresAt)
    {
        lock (_lock)
            _access[Key(domain, token)] = new AccessToken(domain, token, app, app.Scopes, expiresAt);
    }

    /// <summary>Revokes an access token; false when the shop has no such live token.</summary>
    public bool Revoke(string domain, string token)
    {
        lock (_lock)
        {
            if (_access.TryGetValue(Key(domain, token), out var access) && !access.Revoked)
                return access.Revoked = true;
            return false;
        }
    }

    public void Expire(string token)
    {
        lock (_lock)
        {
            var matches = _access.Values.Where(a => a.Token == token).ToList();
            if (matches.Count == 0)
                throw new KeyNotFoundException($"No access token {token}.");
            // A flag rather than ExpiresAt = now: tests move their clocks backwards too.
            foreach (var access in matches)
                access.ForcedExpired = true;
        }
    }

    public bool IsValid(string domain, string? token)
    {
        if (token is null)
            return false;
        lock (_lock)
            return _access.TryGetValue(Key(domain, token), out var access) && access.IsLive(Now);
    }

    /// <summary>The app a live token belongs to, or null; marks the token used.</summary>
    public ShopifyApp? Authenticate(string domain, string? token)
    {
        if (token is null)
            return null;
        lock (_lock)
        {
            if (!_access.TryGetValue(Key(domain, token), out var access) || !access.IsLive(Now))
                return null;
            access.Used = true;
            return access.App;
        }
    }

    /// <summary>True while the app holds any unrevoked token on the shop (an expired one still means installed).</summary>
    public bool IsInstalled(string domain, ShopifyApp app)
    {
        lock (_lock)
            return _access.Values.Any(a => a.App == app && !a.Revoked && SameShop(a.Domain, domain));
    }

    /// <summary>The apps holding any unrevoked token on the shop.</summary>
    public List<ShopifyApp> InstalledApps(string domain)
    {
        lock (_lock)
            return _access.Values.Where(a => !a.Revoked && SameShop(a.Domain, domain)).Select(a => a.App).Distinct().ToList();
    }

    /// <summary>Revokes every token of the app on the shop, as an uninstall does.</summary>
    public void RevokeApp(string domain, ShopifyApp app)
    {
        lock (_lock)
            foreach (var access in _access.Values.Where(a => a.App == app && SameShop(a.Domain, domain)))
                access.Revoked = true;
    }

    public void RemoveShop(string domain)
    {
        lock (_lock)
            foreach (var key in _access.Keys.Where(k => SameShop(k.Domain, domain)).ToList())
                _access.Remove(key);
    }

    private sealed class AccessToken(string domain, string token, ShopifyApp app, string scopes, DateTimeOffset? expiresAt)
    {
        public string Domain { get; } = domain;
        public string Token { get; } = token;
        public ShopifyApp App { get; } = app;
        public string Scopes { get; } = scopes;
        /// <summary>Null for a token that never expires.</summary>
        public DateTimeOffset? ExpiresAt { get; } = expiresAt;
        public bool Revoked { get; set; }
        public bool ForcedExpired { get; set; }
        /// <summary>Set once the token has authenticated an API request.</summary>
        public bool Used { get; set; }

        public bool IsLive(DateTimeOffset now) => !Revoked && !ForcedExpired && (ExpiresAt is null || now < ExpiresAt);
    }
}
