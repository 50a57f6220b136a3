namespace Xeno.Web.Infrastructure.Web;

/// <summary>
/// Headers every answer carries: a Content-Security-Policy that allows no inline script and no framing, no MIME
/// sniffing, a referrer that leaves only the origin to other sites, and HSTS when the request came over TLS. Forms may
/// lead to Shopify only (the install redirects there), on the origin the shop API is configured at.
/// </summary>
public static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this WebApplication app)
    {
        var policy = string.Join("; ",
            "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
            "font-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'",
            $"form-action 'self' {ShopifyOrigin(app.Configuration["Shopify:ApiBaseUrl"] ?? "https://{shop}")}");
        return app.Use(async (context, next) =>
        {
            // Hangfire's dashboard (operators only) is built on inline scripts; it keeps its own.
            if (context.Request.Path.StartsWithSegments("/hangfire"))
            {
                await next(context);
                return;
            }
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = policy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers.XFrameOptions = "DENY";
                if (context.Request.IsHttps) headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
                return Task.CompletedTask;
            });
            await next(context);
        });
    }

    /// <summary><c>https://{shop}</c> → <c>https://*.myshopify.com</c>; a test or demo server's origin as it is.</summary>
    private static string ShopifyOrigin(string apiBaseUrl)
    {
        if (apiBaseUrl.StartsWith("https://{shop}", StringComparison.Ordinal)) return "https://*.myshopify.com";
        var uri = new Uri(apiBaseUrl.Replace("{shop}", "shop.myshopify.com"));
        return uri.GetLeftPart(UriPartial.Authority);
    }
}
