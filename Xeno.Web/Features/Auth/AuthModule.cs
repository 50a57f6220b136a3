using Carter;
using Xeno.Web.Infrastructure.Auth;

namespace Xeno.Web.Features.Auth;

public sealed class AuthModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/auth").WithTags("Accounts");
        api.MapPost("/register", Register.HandleApiAsync);
        api.MapPost("/login", Login.HandleApiAsync);
        api.MapPost("/logout", Logout.HandleApiAsync).RequireAuthorization(AuthSetup.ApiPolicy);
        api.MapPost("/password", ChangePassword.HandleApiAsync).RequireAuthorization(AuthSetup.ApiPolicy);

        var pages = app.MapGroup("").WithAntiforgeryCheck().ExcludeFromDescription();
        pages.MapGet("/register", Register.ShowPage);
        pages.MapPost("/register", Register.HandlePageAsync);
        pages.MapGet("/login", Login.ShowPage);
        pages.MapPost("/login", Login.HandlePageAsync);
        pages.MapGet("/logout", Logout.ShowPage).RequireAuthorization(AuthSetup.PagePolicy);
        pages.MapPost("/logout", Logout.HandlePageAsync).RequireAuthorization(AuthSetup.PagePolicy);
        pages.MapGet("/account", ChangePassword.ShowPage).RequireAuthorization(AuthSetup.PagePolicy);
        pages.MapPost("/account/password", ChangePassword.HandlePageAsync).RequireAuthorization(AuthSetup.PagePolicy);
    }
}
