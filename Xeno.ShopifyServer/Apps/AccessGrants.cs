using System.Security.Cryptography;

namespace Xeno.ShopifyServer;

/// <summary>What a successful grant hands out, as the token endpoint writes it.</summary>
internal sealed record IssuedTokens(string AccessToken, string Scopes, TimeSpan? ExpiresIn, string? RefreshToken, TimeSpan? RefreshTokenExpiresIn);

/// <summary>A grant's outcome: tokens, or an OAuth error code with its description.</summary>
internal sealed record GrantResult(IssuedTokens? Tokens, string? Error, string? Description, bool SpentRefreshTokenUsed = false)
{
    public static GrantResult Granted(IssuedTokens tokens) => new(tokens, null, null);

    public static GrantResult Refused(string error, string description, bool spentRefreshTokenUsed = false) =>
        new(null, error, description, spentRefreshTokenUsed);
}

/// <summary>
/// Every credential the server has issued: authorization codes, access tokens and refresh tokens, each bound
/// to one shop and one app. One lock guards all of them, so that a refresh's check-and-rotate is atomic
/// against a concurrent refresh of the same token; grants are rare and quick, so the lock costs nothing.
/// Nothing is ever deleted (only marked), because the refresh rules must still know a superseded pair.
/// </summary>
internal sealed class AccessGrants(TimeProvider clock)
{
    private readonly Lock _lock = new();
    // Keyed by shop and token: tokens added by hand (AddToken) may repeat the same string on several shops.
    private readonly Dictionary<(string Domain, string Token), AccessToken> _access = [];
    private readonly Dictionary<(string Domain, string Token), RefreshToken> _refresh = [];
    private readonly Dictionary<string, AuthorizationCode> _codes = new(StringComparer.Ordinal);

    private DateTimeOffset Now => clock.GetUtcNow();

    private static (string, string) Key(string domain, string token) => (domain.ToLowerInvariant(), token);

    private static bool SameShop(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    public static string NewAccessToken() => "shpat_" + RandomHex();

    public static string NewRefreshToken() => "shprt_" + RandomHex();

    public static string NewCode() => RandomHex();

    private static string RandomHex() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public void Add(string domain, string token, ShopifyApp app, DateTimeOffset? expiresAt)
    {
        lock (_lock)
            _access[Key(domain, token)] = new AccessToken(domain, token, app, app.Scopes, expiresAt, family: null);
    }

    /// <summary>Revokes an access or a refresh token; false when the shop has no such live token.</summary>
    public bool Revoke(string domain, string token)
    {
        lock (_lock)
        {
            if (_access.TryGetValue(Key(domain, token), out var access) && !access.Revoked)
                return access.Revoked = true;
            if (_refresh.TryGetValue(Key(domain, token), out var refresh) && !refresh.Revoked)
                return refresh.Revoked = true;
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

    /// <summary>The app a live token belongs to, or null; marks the token used, which ends the grace of the refresh token it replaced.</summary>
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
            return _access.Values.Any(a => a.App == app && !a.Revoked && SameShop(a.Domain, domain))
                || _refresh.Values.Any(r => r.App == app && !r.Revoked && SameShop(r.Domain, domain));
    }

    /// <summary>The apps holding any unrevoked token on the shop.</summary>
    public List<ShopifyApp> InstalledApps(string domain)
    {
        lock (_lock)
            return _access.Values.Where(a => !a.Revoked && SameShop(a.Domain, domain)).Select(a => a.App)
                .Concat(_refresh.Values.Where(r => !r.Revoked && SameShop(r.Domain, domain)).Select(r => r.App))
                .Distinct().ToList();
    }

    /// <summary>Revokes every token and unused code of the app on the shop, as an uninstall does.</summary>
    public void RevokeApp(string domain, ShopifyApp app)
    {
        lock (_lock)
        {
            foreach (var access in _access.Values.Where(a => a.App == app && SameShop(a.Domain, domain)))
                access.Revoked = true;
            foreach (var refresh in _refresh.Values.Where(r => r.App == app && SameShop(r.Domain, domain)))
                refresh.Revoked = true;
            foreach (var code in _codes.Values.Where(c => c.App == app && SameShop(c.Domain, domain)))
                code.Used = true;
        }
    }

    public void RemoveShop(string domain)
    {
        lock (_lock)
        {
            foreach (var key in _access.Keys.Where(k => SameShop(k.Domain, domain)).ToList())
                _access.Remove(key);
            foreach (var key in _refresh.Keys.Where(k => SameShop(k.Domain, domain)).ToList())
                _refresh.Remove(key);
            foreach (var (code, _) in _codes.Where(c => SameShop(c.Value.Domain, domain)).ToList())
                _codes.Remove(code);
        }
    }

    public string IssueCode(string domain, ShopifyApp app, string scopes, string redirectUri, TimeSpan lifetime)
    {
        var code = NewCode();
        lock (_lock)
            _codes[code] = new AuthorizationCode(domain, app, scopes, redirectUri, Now + lifetime);
        return code;
    }

    /// <summary>The authorization code grant: a code is good once, for its shop and app, until it expires.</summary>
    public GrantResult ExchangeCode(string domain, ShopifyApp app, string code, bool expiring)
    {
        lock (_lock)
        {
            if (!_codes.TryGetValue(code, out var grant) || !SameShop(grant.Domain, domain) || grant.App != app)
                return GrantResult.Refused("invalid_grant", "The authorization code was not found or was issued to another shop or app.");
            if (grant.Used)
                return GrantResult.Refused("invalid_grant", "The authorization code was already used.");
            if (Now >= grant.ExpiresAt)
                return GrantResult.Refused("invalid_grant", "The authorization code has expired.");
            grant.Used = true;
            if (!expiring)
            {
                var access = new AccessToken(domain, NewAccessToken(), app, grant.Scopes, expiresAt: null, family: null);
                _access[Key(domain, access.Token)] = access;
                return GrantResult.Granted(new IssuedTokens(access.Token, access.Scopes, null, null, null));
            }
            return GrantResult.Granted(IssuePair(domain, app, grant.Scopes, new TokenFamily(), out _, out _));
        }
    }

    /// <summary>
    /// The refresh token grant with Shopify's 2026-08 resilience rule: a used refresh token may be presented
    /// again (a lost response, a crashed worker) until the app starts using the pair it was exchanged for;
    /// each such retry replaces that unused pair. Once the replacement is in use, the old token is spent,
    /// and presenting it revokes every token of the install (RFC 9700: reuse means it may have been stolen).
    /// </summary>
    public GrantResult Refresh(string domain, ShopifyApp app, string token)
    {
        lock (_lock)
        {
            if (!_refresh.TryGetValue(Key(domain, token), out var presented) || presented.App != app)
                return GrantResult.Refused("invalid_grant", "The refresh token was not found or was issued to another app.");
            if (presented.Spent || presented.Replacement is { } used && (used.Access.Used || used.Refresh.Redeemed))
            {
                presented.Spent = true;
                presented.Family.Revoke();
                return GrantResult.Refused("invalid_grant",
                    "The refresh token was already used and its replacement is in use; every token of this install is revoked.",
                    spentRefreshTokenUsed: true);
            }
            if (presented.Revoked)
                return GrantResult.Refused("invalid_grant", "The refresh token was revoked.");
            if (Now >= presented.ExpiresAt)
                return GrantResult.Refused("invalid_grant", "The refresh token has expired.");
            if (presented.Replacement is { } unused)
            {
                unused.Access.Revoked = true;
                unused.Refresh.Revoked = true;
            }
            var tokens = IssuePair(domain, app, presented.Scopes, presented.Family, out var newAccess, out var newRefresh);
            presented.Replacement = (newAccess, newRefresh);
            return GrantResult.Granted(tokens);
        }
    }

    /// <summary>The client credentials grant; the caller has checked that the app may use it on this shop.</summary>
    public GrantResult IssueClientCredentials(string domain, ShopifyApp app)
    {
        var lifetime = app.ClientCredentialsTokenLifetime;
        lock (_lock)
        {
            var access = new AccessToken(domain, NewAccessToken(), app, app.Scopes, Now + lifetime, family: null);
            _access[Key(domain, access.Token)] = access;
            return GrantResult.Granted(new IssuedTokens(access.Token, access.Scopes, lifetime, null, null));
        }
    }

    // Caller holds _lock.
    private IssuedTokens IssuePair(string domain, ShopifyApp app, string scopes, TokenFamily family, out AccessToken access, out RefreshToken refresh)
    {
        var now = Now;
        access = new AccessToken(domain, NewAccessToken(), app, scopes, now + app.AccessTokenLifetime, family);
        refresh = new RefreshToken(domain, NewRefreshToken(), app, scopes, now + app.RefreshTokenLifetime, family);
        family.AccessTokens.Add(access);
        family.RefreshTokens.Add(refresh);
        _access[Key(domain, access.Token)] = access;
        _refresh[Key(domain, refresh.Token)] = refresh;
        return new IssuedTokens(access.Token, scopes, app.AccessTokenLifetime, refresh.Token, app.RefreshTokenLifetime);
    }

    private sealed class AuthorizationCode(string domain, ShopifyApp app, string scopes, string redirectUri, DateTimeOffset expiresAt)
    {
        public string Domain { get; } = domain;
        public ShopifyApp App { get; } = app;
        public string Scopes { get; } = scopes;
        public string RedirectUri { get; } = redirectUri;
        public DateTimeOffset ExpiresAt { get; } = expiresAt;
        public bool Used { get; set; }
    }

    private sealed class AccessToken(string domain, string token, ShopifyApp app, string scopes, DateTimeOffset? expiresAt, TokenFamily? family)
    {
        public string Domain { get; } = domain;
        public string Token { get; } = token;
        public ShopifyApp App { get; } = app;
        public string Scopes { get; } = scopes;
        /// <summary>Null for a token that never expires.</summary>
        public DateTimeOffset? ExpiresAt { get; } = expiresAt;
        public TokenFamily? Family { get; } = family;
        public bool Revoked { get; set; }
        public bool ForcedExpired { get; set; }
        /// <summary>Set once the token has authenticated an API request.</summary>
        public bool Used { get; set; }

        public bool IsLive(DateTimeOffset now) => !Revoked && !ForcedExpired && (ExpiresAt is null || now < ExpiresAt);
    }

    private sealed class RefreshToken(string domain, string token, ShopifyApp app, string scopes, DateTimeOffset expiresAt, TokenFamily family)
    {
        public string Domain { get; } = domain;
        public string Token { get; } = token;
        public ShopifyApp App { get; } = app;
        public string Scopes { get; } = scopes;
        public DateTimeOffset ExpiresAt { get; } = expiresAt;
        public TokenFamily Family { get; } = family;
        public bool Revoked { get; set; }
        /// <summary>Presented again after its replacement was in use; stays refused.</summary>
        public bool Spent { get; set; }
        /// <summary>The pair this token was last exchanged for; null until it is redeemed.</summary>
        public (AccessToken Access, RefreshToken Refresh)? Replacement { get; set; }
        public bool Redeemed => Replacement is not null;
    }

    /// <summary>Every token descended from one authorization code: what a detected reuse revokes.</summary>
    private sealed class TokenFamily
    {
        public List<AccessToken> AccessTokens { get; } = [];
        public List<RefreshToken> RefreshTokens { get; } = [];

        public void Revoke()
        {
            foreach (var access in AccessTokens)
                access.Revoked = true;
            foreach (var refresh in RefreshTokens)
                refresh.Revoked = true;
        }
    }
}
