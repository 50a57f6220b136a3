using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Html;

namespace Xeno.Web.Features.Shared;

/// <summary>What the layout needs: the page title, who is signed in, and which store is open.</summary>
public sealed record LayoutModel(string Title, string? UserEmail = null, StoreNav? Store = null);

public sealed record StoreNav(Guid Id, string Name);

public static class Forms
{
    /// <summary>The hidden antiforgery field every state-changing form carries.</summary>
    public static IHtmlContent AntiforgeryField(HttpContext http)
    {
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        return new HtmlString($"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{System.Net.WebUtility.HtmlEncode(tokens.RequestToken)}\">");
    }

    /// <summary>htmx sends this JSON as headers on every request it makes (hx-headers on body).</summary>
    public static string HtmxHeaders(HttpContext http)
    {
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        return System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string?> { [tokens.HeaderName!] = tokens.RequestToken });
    }

    /// <summary>A local path to come back to after login; anything else is dropped. As <c>Url.IsLocalUrl</c>: one
    /// leading slash not followed by a slash or a backslash (browsers read <c>/\</c> as <c>//</c>), and no control
    /// character anywhere (browsers drop tabs and newlines, so <c>/%09/evil.example</c> would become <c>//evil.example</c>).</summary>
    public static string SafeReturnUrl(string? returnUrl) => IsLocalPath(returnUrl) ? AsciiOnly(returnUrl!) : "/stores";

    /// <summary>A Location header takes ASCII only: other characters are percent-encoded as UTF-8.</summary>
    private static string AsciiOnly(string url) => url.All(char.IsAscii)
        ? url
        : string.Concat(url.EnumerateRunes().Select(r => r.IsAscii ? r.ToString() : Uri.EscapeDataString(r.ToString())));

    public static bool IsLocalPath(string? url) =>
        url is { Length: > 0 and <= 2048 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(char.IsControl) && !Uri.UnescapeDataString(url).Any(char.IsControl);

    /// <summary>A link that carries the return path along (login ⇄ register), when there is a safe one.</summary>
    public static string WithReturnUrl(string path, string? returnUrl) =>
        IsLocalPath(returnUrl) ? path + "?returnUrl=" + Uri.EscapeDataString(returnUrl!) : path;
}
