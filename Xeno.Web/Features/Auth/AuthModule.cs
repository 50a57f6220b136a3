using Carter;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Web;

namespace Xeno.Web.Features.Auth;

public sealed class AuthModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/auth").WithTags("Accounts");
        api.MapPost("/register", Register.HandleApiAsync)
            .Describe("Register", "Makes an account from an email and a password (8 to 128 characters), and answers with its first token.")
            .Answers<AuthResponse>(StatusCodes.Status201Created, "The account is made: a token, when it expires, and the account.")
            .AnswersProblem(StatusCodes.Status400BadRequest,
                "The email is not a valid address, the password is not 8 to 128 characters, or the body is not JSON.")
            .AnswersProblem(StatusCodes.Status409Conflict, "An account with this email exists.")
            .AnswersNonJsonBody()
            .AnswersProblem(StatusCodes.Status429TooManyRequests,
                "Too many registrations from this client address (10 per 15 minutes by default); Retry-After says in how many seconds to try again.");
        api.MapPost("/login", Login.HandleApiAsync)
            .Describe("Login", "Answers a fresh token for an email and its password.")
            .Answers<AuthResponse>(StatusCodes.Status200OK, "A fresh token, when it expires, and the account.")
            .AnswersProblem(StatusCodes.Status400BadRequest, "The body is missing or is not JSON.")
            .AnswersProblem(StatusCodes.Status401Unauthorized,
                "Wrong email or password (one message for both, so that a login does not tell which accounts exist).")
            .AnswersNonJsonBody()
            .AnswersProblem(StatusCodes.Status429TooManyRequests,
                "Too many failed logins (5 per account or 20 per client address within 15 minutes): every attempt is refused until the " +
                "window ends, even with the right password. Retry-After says when.");
        api.MapPost("/logout", Logout.HandleApiAsync).RequireApiToken()
            .Describe("Logout", "Ends every session of the account at once: all of its tokens stop working, on every device.")
            .AnswersNoContent("Logged out: every token of the account, this one included, is revoked.");
        api.MapPost("/password", ChangePassword.HandleApiAsync).RequireApiToken()
            .Describe("ChangePassword", "Changes the caller's password, given the current one; every earlier token stops working.")
            .Answers<AuthResponse>(StatusCodes.Status200OK, "The password is changed: a fresh token (every token issued before, this one's included, is revoked).")
            .AnswersProblem(StatusCodes.Status400BadRequest,
                "The current password is wrong, the new one is not 8 to 128 characters, or the body is not JSON.")
            .AnswersNonJsonBody();

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
