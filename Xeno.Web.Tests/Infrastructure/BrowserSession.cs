using System.Net;
using System.Text.RegularExpressions;

namespace Xeno.Web.Tests.Infrastructure;

/// <summary>
/// What a browser does for Xeno's pages, minus the rendering: keeps cookies (Secure ones too, as a
/// browser does for localhost), follows no redirects on its own, and sends forms with the antiforgery
/// token found in the page it came from.
/// </summary>
public sealed partial class BrowserSession(HttpClient client)
{
    private readonly Dictionary<string, string> _cookies = new();

    public IReadOnlyDictionary<string, string> Cookies => _cookies;
    public List<string> SetCookieHeaders { get; } = [];

    /// <summary>Signs the browser in with a token the API handed out (both are the same kind of token).</summary>
    public void UseToken(string token) => _cookies["xeno_auth"] = token;

    public void SetCookie(string name, string value) => _cookies[name] = value;

    public async Task<(HttpResponseMessage Response, string Html)> GetAsync(string url, bool htmx = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (htmx) request.Headers.Add("HX-Request", "true");
        return await SendAsync(request);
    }

    /// <summary>Posts a form as the page <paramref name="fromPage"/> would, antiforgery token included.</summary>
    public Task<(HttpResponseMessage Response, string Html)> PostFormAsync(string url, string fromPage, IDictionary<string, string> fields) =>
        SendFormAsync(HttpMethod.Post, url, fromPage, fields);

    /// <summary>A form, or htmx's request, of any method, antiforgery token taken from <paramref name="fromPage"/>.</summary>
    public async Task<(HttpResponseMessage Response, string Html)> SendFormAsync(HttpMethod method, string url, string fromPage,
        IDictionary<string, string> fields, bool htmx = false)
    {
        var (_, html) = await GetAsync(fromPage);
        var token = AntiforgeryInput().Match(html);
        var all = new Dictionary<string, string>(fields);
        if (token.Success) all["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value);
        using var request = new HttpRequestMessage(method, url) { Content = new FormUrlEncodedContent(all) };
        if (htmx) request.Headers.Add("HX-Request", "true");
        return await SendAsync(request);
    }

    public async Task<(HttpResponseMessage Response, string Html)> PostRawAsync(string url, IDictionary<string, string> fields)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) };
        return await SendAsync(request);
    }

    /// <summary>Any request, with the session's cookies, keeping what it sets.</summary>
    public async Task<(HttpResponseMessage Response, string Html)> SendAsync(HttpRequestMessage request)
    {
        if (_cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}")));
        var response = await client.SendAsync(request);
        if (response.Headers.TryGetValues("Set-Cookie", out var values))
        {
            foreach (var header in values)
            {
                SetCookieHeaders.Add(header);
                var pair = header.Split(';')[0].Split('=', 2);
                var expired = header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase);
                if (expired || pair[1] == "") _cookies.Remove(pair[0]);
                else _cookies[pair[0]] = pair[1];
            }
        }
        return (response, await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryInput();
}
