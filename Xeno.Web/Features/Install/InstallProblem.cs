namespace Xeno.Web.Features.Install;

/// <summary>Why an install could not go on, shown as a page with the status code that says so.</summary>
public sealed record InstallProblem(int StatusCode, string Title, string Message, string? ShopDomain = null, string? UserEmail = null)
{
    public IResult ToResult(HttpContext http) =>
        Results.RazorSlice<InstallProblemPage, InstallProblem>(this with { UserEmail = UserEmail ?? http.User.Identity?.Name }, StatusCode);

    public static InstallProblem NotFromShopify() => new(StatusCodes.Status400BadRequest, "Install link not valid",
        "This link does not carry Shopify's signature, so Xeno did not act on it. Start the install from Xeno or from your Shopify admin.");

    public static InstallProblem BadShop() => new(StatusCodes.Status400BadRequest, "Shop domain not valid",
        "The shop domain must look like your-shop.myshopify.com.");

    public static InstallProblem NotConfigured() => new(StatusCodes.Status503ServiceUnavailable, "Installing is not set up",
        "This Xeno cannot be installed from Shopify yet: its operator must set Shopify__ApiKey, Shopify__ApiSecret and App__PublicUrl.");
}
