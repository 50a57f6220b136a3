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

    /// <summary>A local path to come back to after login; anything else (another host) is dropped.</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            ? returnUrl : "/stores";
}
