using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Web;

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
        var role = await db.StoreMembers.Where(m => m.StoreId == storeId && m.UserId == userId).Select(m => m.Role).FirstOrDefaultAsync();
        if (role is null) return NotFound(http);

        http.RequestServices.GetRequiredService<TenantContext>().Set(storeId);
        http.Items[StoreAccessExtensions.RoleKey] = role;
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

/// <summary>
/// Lets only the store's owners through; a viewer gets 403 (it knows the store exists: it reads its dashboard). Runs
/// after <see cref="StoreAccessFilter"/>, which has already answered 404 to everyone else.
/// </summary>
public sealed class StoreOwnerFilter : IEndpointFilter
{
    public const string Refusal = "Only the store's owners can do this. Ask one of them to change your role.";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.MemberRole() == MemberRoles.Owner) return await next(context);
        return http.Request.Path.StartsWithSegments("/api")
            ? TypedResults.Problem(title: "Owners only.", detail: Refusal, statusCode: StatusCodes.Status403Forbidden)
            : Results.Content(ForbiddenPage, "text/html", statusCode: StatusCodes.Status403Forbidden);
    }

    private const string ForbiddenPage =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Owners only · Xeno</title>" +
        "<link rel=\"stylesheet\" href=\"/css/site.css\"></head><body><main class=\"container\"><h1>Owners only</h1>" +
        "<p>" + Refusal + "</p><p><a href=\"/stores\">Back to your stores</a></p></main></body></html>";
}

public static class StoreAccessExtensions
{
    internal static readonly object RoleKey = new();

    /// <summary>The caller's role in the request's store, once <see cref="StoreAccessFilter"/> has let it through.</summary>
    public static string? MemberRole(this HttpContext http) => http.Items[RoleKey] as string;

    /// <summary>Every route under this group works for one store: tenant resolved, or 404 (the OpenAPI document says both).</summary>
    public static TBuilder ForStoreTenant<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, StoreAccessFilter>()
            .DescribeParameter("storeId", "The store's id (a UUID). It must be one of the caller's stores (owner or viewer); any other answers 404.")
            .AnswersProblem(StatusCodes.Status404NotFound, "No such store: not one of the caller's (never 403), or not a UUID.");

    /// <summary>Only the store's owners, after <see cref="ForStoreTenant{TBuilder}"/>: settings, team, deletion.</summary>
    public static TBuilder ForStoreOwners<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, StoreOwnerFilter>()
            .AnswersProblem(StatusCodes.Status403Forbidden, "The caller is a viewer of the store: owners only.");
}
