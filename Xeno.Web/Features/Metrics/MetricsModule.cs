using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

public sealed class MetricsModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stores/{storeId}/metrics").WithTags("Metrics").RequireAuthorization(AuthSetup.ApiPolicy).ForStoreTenant();
        api.MapGet("/summary", GetSummary.HandleApiAsync);
        api.MapGet("/daily", GetDaily.HandleApiAsync);
        api.MapGet("/top-customers", GetTopCustomers.HandleApiAsync);
        api.MapGet("/products", GetProducts.HandleApiAsync);
        api.MapGet("/checkouts", GetCheckouts.HandleApiAsync);
        api.MapGet("/segments", GetSegments.HandleApiAsync);
    }
}
