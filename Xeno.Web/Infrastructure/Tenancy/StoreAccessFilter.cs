using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Tenancy;

/// <summary>
/// Resolves the tenant of a request from the route's <c>{storeId}</c> and the caller's membership.
/// A store that is not the caller's answers 404, never 403, so that its existence is not revealed.
/// </summary>
public sealed class StoreAccessFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var db = http.RequestServices.GetRequiredService<XenoDb>();
        var raw = http.Request.RouteValues["storeId"]?.ToString();
        if (!Guid.TryParse(raw, out var storeId) || http.User.Identity?.IsAuthenticated != true)
            return NotFound(http);
        var userId = http.User.UserId();
        var isMember = await db.StoreMembers.AnyAsync(m => m.StoreId == storeId && m.UserId == userId);
        if (!isMember) return NotFound(http);

        http.RequestServices.GetRequiredService<TenantContext>().Set(storeId);
        return await next(context);
    }

    private static IResult NotFound(HttpContext http) => http.Request.Path.StartsWithSegments("/api")
        ? TypedResults.Problem(title: "No such store.", statusCode: StatusCodes.Status404NotFound)
        : Results.Content(NotFoundPage, "text/html", statusCode: StatusCodes.Status404NotFound);

    private const string NotFoundPage =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found · Xeno</title>" +
        "<link rel=\"stylesheet\" href=\"/css/site.css\"></head><body><main class=\"container\"><h1>Store not found</h1>" +
        "<p>This store does not exist or is not one of yours.</p><p><a href=\"/stores\">Back to your stores</a></p></main></body></html>";
}

public static class StoreAccessExtensions
{
    /// <summary>Every route under this group works for one store: tenant resolved, or 404.</summary>
    public static TBuilder ForStoreTenant<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, StoreAccessFilter>();
}
