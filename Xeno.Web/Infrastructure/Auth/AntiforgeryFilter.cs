using Microsoft.AspNetCore.Antiforgery;

namespace Xeno.Web.Infrastructure.Auth;

/// <summary>
/// Checks the antiforgery token of every state-changing page request, and hands out tokens on page views. UseAntiforgery() alone only
/// checks endpoints that bind a form, so a handler that reads nothing would slip through.
/// </summary>
public sealed class AntiforgeryFilter(IAntiforgery antiforgery) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        {
            // Issue the cookie half now: pages stream, so by the time the layout asks for the form
            // token the response has started and no cookie could be set any more.
            antiforgery.GetAndStoreTokens(http);
        }
        else
        {
            try { await antiforgery.ValidateRequestAsync(http); }
            catch (AntiforgeryValidationException)
            {
                return TypedResults.Problem(
                    title: "This form has expired or did not come from Xeno. Reload the page and try again.",
                    statusCode: StatusCodes.Status400BadRequest);
            }
        }
        return await next(context);
    }
}

public static class AntiforgeryFilterExtensions
{
    public static TBuilder WithAntiforgeryCheck<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, AntiforgeryFilter>();
}
