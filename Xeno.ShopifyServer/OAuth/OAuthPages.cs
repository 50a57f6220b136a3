using System.Net;
using System.Text;

namespace Xeno.ShopifyServer;

/// <summary>
/// The HTML of the authorize step: the consent page and the error pages. Plain documents without scripts, so
/// that a browser test can click through them and an accessibility checker finds nothing to say.
/// </summary>
internal static class OAuthPages
{
    /// <summary>Scripts are never needed; the inline style is the only resource.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

    private const string Style = """
        body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #202223; background: #f6f6f7; }
        main { max-width: 32rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: .75rem; box-shadow: 0 1px 3px #0003; }
        h1 { font-size: 1.5rem; margin-top: 0; }
        h2 { font-size: 1rem; }
        .actions { display: flex; gap: 1rem; align-items: center; margin-top: 2rem; }
        button { font: inherit; font-weight: 600; padding: .6rem 1.2rem; border: 0; border-radius: .5rem; color: #fff; background: #006e52; cursor: pointer; }
        button:focus-visible, a:focus-visible { outline: 3px solid #2c6ecb; outline-offset: 2px; }
        a { color: #1f5199; }
        """;

    public static string Consent(string appName, string shopName, string shopDomain, string formAction,
        IEnumerable<string> scopes, IEnumerable<KeyValuePair<string, string>> hiddenFields, string cancelUrl)
    {
        var app = Encode(appName);
        var html = new StringBuilder();
        html.Append(Head($"Install {appName} on {shopName}"));
        html.Append($"<h1>Install {app} on {Encode(shopName)}</h1>\n");
        html.Append($"<p>{app} is asking for access to your store <strong>{Encode(shopDomain)}</strong>.</p>\n");
        html.Append("<section aria-labelledby=\"access\">\n<h2 id=\"access\">This app will be able to</h2>\n<ul>\n");
        foreach (var scope in scopes)
            html.Append($"<li>{Encode(Describe(scope))}</li>\n");
        html.Append("</ul>\n</section>\n");
        html.Append($"<form method=\"post\" action=\"{Encode(formAction)}\" aria-label=\"Install {app}\">\n");
        foreach (var (name, value) in hiddenFields)
            html.Append($"<input type=\"hidden\" name=\"{Encode(name)}\" value=\"{Encode(value)}\">\n");
        html.Append("<div class=\"actions\">\n<button type=\"submit\" id=\"install\">Install app</button>\n");
        html.Append($"<a href=\"{Encode(cancelUrl)}\" id=\"cancel\">Cancel</a>\n</div>\n</form>\n");
        html.Append(Foot);
        return html.ToString();
    }

    public static string NotFound() =>
        Head("Page not found") +
        "<h1>There's no page at this address</h1>\n<p>Check the URL and try again, or use the search bar to find what you need.</p>\n" +
        Foot;

    /// <summary>Shopify's wording: "Oauth error invalid_request: The redirect_uri is not whitelisted".</summary>
    public static string OAuthError(string error, string description) =>
        Head("Oauth error " + error) + $"<h1>Oauth error {Encode(error)}</h1>\n<p>{Encode(description)}</p>\n" + Foot;

    /// <summary>The plain words a merchant reads for a scope.</summary>
    public static string Describe(string scope) => scope switch
    {
        "read_products" => "View products, variants and collections",
        "read_customers" => "View customers, including their names and email addresses",
        "read_orders" => "View orders from the last 60 days",
        "read_all_orders" => "View all orders, not only those of the last 60 days",
        _ when scope.StartsWith("read_", StringComparison.Ordinal) => "View " + scope["read_".Length..].Replace('_', ' '),
        _ when scope.StartsWith("write_", StringComparison.Ordinal) => "View and edit " + scope["write_".Length..].Replace('_', ' '),
        _ => scope,
    };

    private static string Head(string title) => $"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{Encode(title)}</title>
        <style>
        {Style}
        </style>
        </head>
        <body>
        <main>

        """;

    private const string Foot = "</main>\n</body>\n</html>\n";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
