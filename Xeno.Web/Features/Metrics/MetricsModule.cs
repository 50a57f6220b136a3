using Carter;
using Microsoft.OpenApi;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public sealed class MetricsModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stores/{storeId}/metrics").WithTags("Metrics").RequireAuthorization(AuthSetup.ApiPolicy).ForStoreTenant();
        api.MapGet("/summary", GetSummary.HandleApiAsync).Describe<GetSummary.Response>("GetSummary",
            "Sales and customer figures over a range; with compare, the comparison range's figures and each one's change.");
        api.MapGet("/daily", GetDaily.HandleApiAsync).Describe<GetDaily.Response>("GetDaily",
            "Sales per local date of the range, zeros included; with compare, the comparison range's days beside them.");
        api.MapGet("/top-customers", GetTopCustomers.HandleApiAsync).Describe<GetTopCustomers.Response>("GetTopCustomers",
            "Customers ranked by net sales over a range; with compare, each one's net sales over the comparison range.");
        api.MapGet("/products", GetProducts.HandleApiAsync).Describe<GetProducts.Response>("GetProducts",
            "Products ranked by net sales over a range; with compare, each one's net sales over the comparison range.");
        api.MapGet("/checkouts", GetCheckouts.HandleApiAsync).Describe<GetCheckouts.Response>("GetCheckouts",
            "Orders, abandoned checkouts and conversion over a range; with compare, the comparison range's figures and changes.");
        api.MapGet("/segments", GetSegments.HandleApiAsync).Describe<GetSegments.Response>("GetSegments",
            "Customers by segment (VIP, Regular, New) as of a date, prospects, and Shopify's RFM groups.");
        api.MapGet("/cohorts", GetCohorts.HandleApiAsync).Describe<GetCohorts.Response>("GetCohorts",
            "Customers by acquisition month: per month since, active customers, retention, net sales and lifetime value per customer.");

        // The one metrics call over several tenants: no {storeId}, so no store filter; it sets each store's tenant itself.
        app.MapGroup("/api/v1/metrics").WithTags("Metrics").RequireAuthorization(AuthSetup.ApiPolicy)
            .MapGet("/overview", GetOverview.HandleApiAsync).Describe<GetOverview.Response>("GetOverview",
                "Every store of the caller side by side over a range (each in its own zone), with totals per currency.", ofOneStore: false);
    }
}

internal static class MetricsEndpointDescription
{
    private static readonly Dictionary<string, string> ParameterDescriptions = new(StringComparer.Ordinal)
    {
        ["storeId"] = "The store (one of the caller's; any other answers 404).",
        ["from"] = "First date of the range, yyyy-MM-dd in the shop's zone (default: 29 days before `to`).",
        ["to"] = "Last date of the range, yyyy-MM-dd in the shop's zone (default: today). At most 731 days from `from`.",
        ["compare"] = "`previous` (the same number of days just before `from`) or `year` (from − 1 year .. to − 1 year, 29 February as 28 February).",
        ["format"] = "`csv` answers text/csv whatever the Accept header; `json` answers JSON. Without it, `Accept: text/csv` asks for CSV.",
        ["limit"] = "How many items, 1 to 100.",
        ["asOf"] = "Only data up to this date counts, yyyy-MM-dd in the shop's zone (default: today).",
        ["months"] = "How many acquisition months, ending with asOf's month, 1 to 36 (default 12).",
    };

    /// <summary>What the OpenAPI document says of a metrics endpoint: its JSON body (or the same as CSV) and its problems.</summary>
    public static RouteHandlerBuilder Describe<TResponse>(this RouteHandlerBuilder endpoint, string name, string summary, bool ofOneStore = true)
    {
        endpoint.WithName(name)
            .WithSummary(summary)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                foreach (var parameter in operation.Parameters ?? [])
                    if (parameter is OpenApiParameter { Name: { } known } described && ParameterDescriptions.TryGetValue(known, out var text))
                        described.Description = text;
                return Task.CompletedTask;
            })
            .Produces<TResponse>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        // A store that is not the caller's answers 404 (never 403).
        return ofOneStore ? endpoint.ProducesProblem(StatusCodes.Status404NotFound) : endpoint;
    }
}
