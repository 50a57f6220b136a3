using System.Text.RegularExpressions;

namespace Xeno.Web.Infrastructure.Shopify;

public sealed class ShopifyOptions
{
    /// <summary>Origin of a shop's Admin API; <c>{shop}</c> is replaced by the myshopify domain.</summary>
    public string ApiBaseUrl { get; set; } = "https://{shop}";
    public string ApiVersion { get; set; } = "2026-10";
    public string? ApiKey { get; set; }
    public string? ApiSecret { get; set; }
}

public static partial class ShopDomain
{
    /// <summary>Only <c>name.myshopify.com</c>: Xeno never sends a merchant's token, or any request,
    /// to a host a user typed freely.</summary>
    [GeneratedRegex(@"^[a-z0-9][a-z0-9\-]*\.myshopify\.com$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryNormalize(string? input, out string domain)
    {
        domain = (input ?? "").Trim().ToLowerInvariant();
        if (domain.StartsWith("https://")) domain = domain["https://".Length..];
        domain = domain.TrimEnd('/');
        return domain.Length <= 255 && Pattern().IsMatch(domain);
    }
}
