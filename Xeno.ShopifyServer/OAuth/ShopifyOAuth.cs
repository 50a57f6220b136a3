using System.Security.Cryptography;
using System.Text;

namespace Xeno.ShopifyServer;

/// <summary>Shopify's signature of OAuth redirect queries, for the server and for tests that forge or check one.</summary>
public static class ShopifyOAuth
{
    /// <summary>
    /// The <c>hmac</c> of a query: without <c>hmac</c> and <c>signature</c>, sorted by key (ordinal), joined as
    /// <c>key=value&amp;…</c> with both escaped as Node's <c>querystring.escape</c> does, HMAC-SHA256 with the
    /// app's client secret, lowercase hex.
    /// </summary>
    public static string SignQuery(IEnumerable<KeyValuePair<string, string>> query, string secret)
    {
        var message = string.Join('&', query
            .Where(p => p.Key is not ("hmac" or "signature"))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => Escape(p.Key) + "=" + Escape(p.Value)));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message)));
    }

    /// <summary>True when the query's <c>hmac</c> is <see cref="SignQuery"/> of the rest (compared in constant time).</summary>
    public static bool VerifyQuery(IEnumerable<KeyValuePair<string, string>> query, string secret)
    {
        var pairs = query.ToList();
        var hmac = pairs.FirstOrDefault(p => p.Key == "hmac").Value;
        return hmac is not null && CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(hmac.ToLowerInvariant()), Encoding.ASCII.GetBytes(SignQuery(pairs, secret)));
    }

    /// <summary>The <c>host</c> parameter: base64 (no padding) of <c>admin.shopify.com/store/{name}</c>.</summary>
    internal static string Host(string shopDomain)
    {
        const string suffix = ".myshopify.com";
        var name = shopDomain.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) ? shopDomain[..^suffix.Length] : shopDomain;
        return Convert.ToBase64String(Encoding.UTF8.GetBytes("admin.shopify.com/store/" + name)).TrimEnd('=');
    }

    /// <summary>Node's <c>querystring.escape</c>: every UTF-8 byte but <c>A-Z a-z 0-9 - _ . ! ~ * ' ( )</c> as <c>%XX</c>.</summary>
    private static string Escape(string value)
    {
        var escaped = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'!' or (byte)'~' or (byte)'*' or (byte)'\'' or (byte)'(' or (byte)')')
                escaped.Append((char)b);
            else
                escaped.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return escaped.ToString();
    }
}
