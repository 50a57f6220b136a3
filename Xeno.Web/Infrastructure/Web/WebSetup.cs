using Carter;
using Microsoft.AspNetCore.HttpOverrides;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Jobs;

namespace Xeno.Web.Infrastructure.Web;

public static class WebSetup
{
    public static WebApplicationBuilder AddXenoWeb(this WebApplicationBuilder builder)
    {
        builder.Services.AddCarter(new DependencyContextAssemblyCatalog(typeof(Program).Assembly));
        builder.Services.AddProblemDetails();
        builder.Services.AddXenoOpenApi(); // /openapi/v1.json: the JSON API only (pages are excluded from it)
        // Keys live in PostgreSQL so that every process decrypts what another encrypted, encrypted under a KEK.
        builder.AddXenoKeyRing();
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Fly's proxy is the only hop in front of Xeno; its address is not fixed.
            o.KnownIPNetworks.Clear();
            o.KnownProxies.Clear();
            o.ForwardLimit = 1;
        });
        return builder;
    }

    public static WebApplication UseXenoWeb(this WebApplication app)
    {
        // Only behind a proxy that sets X-Forwarded-For (Fly): elsewhere a client could pick its own
        // address and slip past the per-client login throttle.
        if (app.Configuration.GetValue("App:TrustForwardedHeaders", false)) app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseSecurityHeaders();
        // API.md: the JSON API's errors are problem+json. The default status code page writes one only for a client whose
        // Accept allows JSON, and plain text otherwise (an API client asking for CSV got "Status Code: 404; Not Found").
        var statusCodePage = new StatusCodePagesOptions().HandleAsync;
        app.UseStatusCodePages(context => context.HttpContext.Request.Path.StartsWithSegments("/api")
            ? TypedResults.Problem(statusCode: context.HttpContext.Response.StatusCode).ExecuteAsync(context.HttpContext)
            : statusCodePage(context));
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseSessionRenewal();
        app.UseAntiforgery();
        if (XenoRoles.ServesWeb(app.Configuration))
        {
            app.MapCarter();
            app.MapOpenApi();
            app.MapOperatorDashboard();
        }
        else app.MapGet("/healthz", () => "ok"); // a worker answers its health check and nothing else
        app.MapGet("/", () => Results.Redirect("/stores")).ExcludeFromDescription();
        return app;
    }
}
