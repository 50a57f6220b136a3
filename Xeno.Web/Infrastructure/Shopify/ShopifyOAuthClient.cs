using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Xeno.Web.Infrastructure.Shopify;

/// <summary>What Shopify's token endpoint handed out. Expiry times are absolute, taken when the answer arrived.</summary>
public sealed record TokenGrant(
    string AccessToken, string? Scopes, DateTimeOffset? AccessTokenExpiresAt, string? RefreshToken, DateTimeOffset? RefreshTokenExpiresAt);

/// <summary>Shopify refused a grant for good (<c>invalid_grant</c>, <c>invalid_client</c>, …): asking again with the same
/// credentials cannot work. <see cref="Error"/> is the OAuth error code.</summary>
public sealed class ShopifyGrantRefusedException(string error, string message) : Exception(message)
{
    public string Error { get; } = error;
}

/// <summary>
/// Shopify's OAuth endpoints (<c>{origin}/admin/oauth/…</c>): the authorize URL a merchant is sent to, and the token
/// endpoint for the three grants Xeno uses (authorization code with expiring tokens, refresh token, client credentials).
/// </summary>
/// <remarks>Only a refresh and a client-credentials request are retried after a transient failure. A lost answer to a
/// refresh is safe to repeat: Shopify keeps the used refresh token valid until the app starts using its replacement.
/// An authorization code is single use, so its exchange is never repeated.</remarks>
public sealed class ShopifyOAuthClient(HttpClient http, IOptions<ShopifyOptions> options, TimeProvider clock, ILogger<ShopifyOAuthClient> logger)
{
    private const int Attempts = 3;

    public Uri AuthorizeUrl(string shopDomain, string state, string redirectUri)
    {
        var o = options.Value;
        var query = $"client_id={Uri.EscapeDataString(o.ApiKey ?? "")}&scope={Uri.EscapeDataString(o.Scopes)}" +
                    $"&redirect_uri={Uri.EscapeDataString(redirectUri)}&state={Uri.EscapeDataString(state)}";
        return new Uri($"{Origin(shopDomain)}/admin/oauth/authorize?{query}");
    }

    /// <summary>The install's code for an expiring offline token (one hour) and its refresh token.</summary>
    public Task<TokenGrant> ExchangeCodeAsync(string shopDomain, string code, CancellationToken ct)
    {
        var o = options.Value;
        return RequestAsync(shopDomain, new Dictionary<string, string>
        {
            ["client_id"] = o.ApiKey ?? "", ["client_secret"] = o.ApiSecret ?? "", ["code"] = code, ["expiring"] = "1",
        }, retry: false, ct);
    }

    public Task<TokenGrant> RefreshAsync(string shopDomain, string refreshToken, CancellationToken ct)
    {
        var o = options.Value;
        return RequestAsync(shopDomain, new Dictionary<string, string>
        {
            ["client_id"] = o.ApiKey ?? "", ["client_secret"] = o.ApiSecret ?? "",
            ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken,
        }, retry: true, ct);
    }

    /// <summary>A token for an app of the shop's own organization (Dev Dashboard); about 24 hours, no refresh token.</summary>
    public Task<TokenGrant> ClientCredentialsAsync(string shopDomain, string clientId, string clientSecret, CancellationToken ct) =>
        RequestAsync(shopDomain, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = clientSecret,
        }, retry: true, ct);

    private async Task<TokenGrant> RequestAsync(string shopDomain, Dictionary<string, string> form, bool retry, CancellationToken ct)
    {
        var url = new Uri($"{Origin(shopDomain)}/admin/oauth/access_token");
        var grant = form.GetValueOrDefault("grant_type") ?? "authorization_code";
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(options.Value.AttemptTimeout);
                using var response = await http.PostAsync(url, new FormUrlEncodedContent(form), timeout.Token);
                var text = await response.Content.ReadAsStringAsync(timeout.Token);
                if (response.IsSuccessStatusCode) return Parse(text);
                if (response.StatusCode == HttpStatusCode.NotFound)
                    throw new ShopifyApiException($"Shopify does not know the shop {shopDomain}.", statusCode: 404);
                if ((int)response.StatusCode is >= 400 and < 500 && response.StatusCode != HttpStatusCode.TooManyRequests)
                {
                    var (error, description) = ReadError(text);
                    logger.LogInformation("Shopify refused the {Grant} grant for {Shop}: {Error}", grant, shopDomain, error);
                    throw new ShopifyGrantRefusedException(error, description ?? $"Shopify refused the request ({error}).");
                }
                problem = $"HTTP {(int)response.StatusCode}";
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { problem = "no answer in time"; }
            catch (HttpRequestException e) { problem = "the connection failed: " + e.Message; }
            catch (IOException e) { problem = "the connection dropped: " + e.Message; }
            catch (JsonException) { problem = "its answer was not JSON"; }

            if (!retry || attempt >= Attempts)
                throw new ShopifyApiException($"Shopify's token endpoint failed ({problem}). Xeno will try again later.", isTransient: true, outcomeUnknown: !retry);
            logger.LogInformation("Shopify's token endpoint failed for {Shop} ({Problem}); try {Attempt} of {Attempts}", shopDomain, problem, attempt + 1, Attempts);
            await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt * attempt), clock, ct);
        }
    }

    private TokenGrant Parse(string text)
    {
        var json = JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
        var now = clock.GetUtcNow();
        var accessToken = (string?)json["access_token"] is { Length: > 0 } token ? token : throw new JsonException("no access_token");
        return new TokenGrant(
            accessToken, (string?)json["scope"],
            Seconds(json["expires_in"]) is { } expiresIn ? now.AddSeconds(expiresIn) : null,
            (string?)json["refresh_token"],
            Seconds(json["refresh_token_expires_in"]) is { } refreshIn ? now.AddSeconds(refreshIn) : null);
    }

    private static long? Seconds(JsonNode? node) => node is JsonValue value
        ? value.TryGetValue<long>(out var n) ? n
        : value.TryGetValue<string>(out var s) && long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null
        : null;

    private static (string Error, string? Description) ReadError(string text)
    {
        try
        {
            var json = JsonNode.Parse(text) as JsonObject;
            var error = json?["error"] is JsonValue e && e.TryGetValue<string>(out var code) ? code : "invalid_request";
            var description = json?["error_description"] is JsonValue d && d.TryGetValue<string>(out var words) ? words : null;
            return (error, description);
        }
        catch (JsonException)
        {
            return ("invalid_request", null);
        }
    }

    private string Origin(string shopDomain) => options.Value.ApiBaseUrl.Replace("{shop}", shopDomain).TrimEnd('/');
}

/// <summary>
/// The HMAC Shopify puts on the query of the App URL and of the OAuth callback: drop <c>hmac</c> (and the legacy
/// <c>signature</c>), sort the rest by key, join <c>key=value</c> with <c>&amp;</c> (escaped as Shopify's Node library
/// does), HMAC-SHA256 with the app's client secret, lowercase hex; compared in constant time.
/// </summary>
public static class ShopifyQuerySignature
{
    public static bool IsValid(IEnumerable<KeyValuePair<string, string>> query, string? secret)
    {
        var pairs = query.ToList();
        var given = pairs.Where(p => p.Key == "hmac").Select(p => p.Value).ToList();
        if (string.IsNullOrEmpty(secret) || given.Count != 1 || given[0].Length != 64) return false;
        byte[] givenBytes;
        try { givenBytes = Convert.FromHexString(given[0]); }
        catch (FormatException) { return false; }
        return CryptographicOperations.FixedTimeEquals(givenBytes, Compute(pairs, secret));
    }

    public static string Sign(IEnumerable<KeyValuePair<string, string>> query, string secret) =>
        Convert.ToHexStringLower(Compute(query, secret));

    private static byte[] Compute(IEnumerable<KeyValuePair<string, string>> query, string secret)
    {
        var message = string.Join('&', query
            .Where(p => p.Key is not ("hmac" or "signature"))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => Escape(p.Key) + "=" + Escape(p.Value)));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message));
    }

    /// <summary>Node's <c>querystring.escape</c>: everything but <c>A-Z a-z 0-9 - _ . ! ~ * ' ( )</c> is percent-encoded.</summary>
    private static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.' or '!' or '~' or '*' or '\'' or '(' or ')')
                builder.Append(c);
            else
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }
}
