using Carter;
using Xeno.Web.Infrastructure.Tenancy;
using Xeno.Web.Infrastructure.Web;

namespace Xeno.Web.Features.Metrics;

public sealed class MetricsModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stores/{storeId}/metrics").WithTags("Metrics").RequireApiToken().ForStoreTenant()
            .DescribeParameters(MetricsEndpointDescription.Parameters);
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
        app.MapGroup("/api/v1/metrics").WithTags("Metrics").RequireApiToken().DescribeParameters(MetricsEndpointDescription.Parameters)
            .MapGet("/overview", GetOverview.HandleApiAsync).Describe<GetOverview.Response>("GetOverview",
                "Every store of the caller side by side over a range (each in its own zone), with totals per currency.");
    }
}

internal static class MetricsEndpointDescription
{
    public static readonly IReadOnlyDictionary<string, string> Parameters = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["from"] = "First date of the range, yyyy-MM-dd in the shop's zone (default: 29 days before `to`).",
        ["to"] = "Last date of the range, yyyy-MM-dd in the shop's zone (default: today). At most 731 days from `from`.",
        ["compare"] = "`previous` (the same number of days just before `from`) or `year` (from − 1 year .. to − 1 year, 29 February as 28 February).",
        ["format"] = "`csv` answers text/csv whatever the Accept header; `json` answers JSON. Without it, `Accept: text/csv` asks for CSV.",
        ["limit"] = "How many items, 1 to 100 (default 5 for top customers, 10 for products).",
        ["asOf"] = "Only data up to this date counts, yyyy-MM-dd in the shop's zone (default: today).",
        ["months"] = "How many acquisition months, ending with asOf's month, 1 to 36 (default 12).",
    };

    /// <summary>What the OpenAPI document says of a metrics endpoint: its JSON body (or the same as CSV) and its 400. The
    /// 401 and the 404 of a store that is not the caller's come with the group (RequireApiToken, ForStoreTenant).</summary>
    public static RouteHandlerBuilder Describe<TResponse>(this RouteHandlerBuilder endpoint, string name, string summary) =>
        endpoint.Describe(name, summary)
            .Answers<TResponse>(StatusCodes.Status200OK, "The figures: JSON, or CSV with format=csv (or Accept: text/csv).", "application/json", "text/csv")
            .AnswersProblem(StatusCodes.Status400BadRequest,
                "A parameter is malformed or out of its bounds (a date not yyyy-MM-dd, from after to, a range over 731 days, a limit or " +
                "months out of bounds, an unknown compare or format); the title says which.");
}
