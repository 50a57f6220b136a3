using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Shared;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Auth;

public static class Login
{
    public const string WrongCredentials = "Wrong email or password.";

    public abstract record Outcome
    {
        public sealed record Success(User User) : Outcome;
        public sealed record Wrong : Outcome;
        public sealed record Throttled(TimeSpan RetryAfter) : Outcome;
    }

    public static async Task<Outcome> ExecuteAsync(SecretsDb db, LoginThrottling throttling, string? emailInput, string? password, string client)
    {
        var email = Accounts.NormalizeEmail(emailInput);
        // No account has an address that is not one (register refuses it), and PostgreSQL refuses text with a NUL or a
        // lone surrogate: counted against the client and answered as any wrong login, after the same work.
        if (!Accounts.IsValidEmail(email) || email.Any(char.IsControl) || email.Any(char.IsSurrogate)) email = "(not an email)";
        if (await throttling.RetryAfterAsync(email, client) is { } wait) return new Outcome.Throttled(wait);

        var found = await db.Users.Where(u => u.Email == email)
            .Select(u => new { User = u, Hash = db.UserPasswords.Where(p => p.UserId == u.Id).Select(p => p.Hash).FirstOrDefault() })
            .FirstOrDefaultAsync();
        var user = found?.User;
        // Verify even for an unknown email, so that the time taken does not tell which was wrong.
        if (!PasswordHasher.Verify(password ?? "", found?.Hash) || user is null)
        {
            await throttling.RecordFailureAsync(email, client);
            return new Outcome.Wrong();
        }
        await throttling.ClearAccountAsync(email);
        return new Outcome.Success(user);
    }

    public static async Task<IResult> HandleApiAsync(AuthRequest request, HttpContext http, SecretsDb db, LoginThrottling throttling, JwtTokens tokens)
    {
        var outcome = await ExecuteAsync(db, throttling, request.Email, request.Password, Accounts.ClientKey(http));
        switch (outcome)
        {
            case Outcome.Success s:
                return TypedResults.Ok(AuthResponse.From(s.User, tokens.Issue(s.User)));
            case Outcome.Throttled t:
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(t.RetryAfter.TotalSeconds)).ToString();
                return TypedResults.Problem(title: "Too many failed logins. Try again later.", statusCode: StatusCodes.Status429TooManyRequests);
            default:
                return TypedResults.Problem(title: WrongCredentials, statusCode: StatusCodes.Status401Unauthorized);
        }
    }

    public static IResult ShowPage(string? returnUrl) => LoginPage.Create(new LoginPageModel(null, null, returnUrl));

    /// <summary>Where a login without a return path lands: all stores side by side for an account with more than one,
    /// else the stores list (to install the first, or open the only one).</summary>
    public static async Task<string> LandingAsync(XenoDb db, Guid userId) =>
        await db.StoreMembers.CountAsync(m => m.UserId == userId) > 1 ? "/overview" : "/stores";

    public static async Task<IResult> HandlePageAsync(HttpContext http, SecretsDb db, XenoDb app, LoginThrottling throttling, JwtTokens tokens)
    {
        var form = await http.Request.ReadFormAsync();
        var email = form["email"].ToString();
        var returnUrl = form["returnUrl"].ToString();
        var outcome = await ExecuteAsync(db, throttling, email, form["password"], Accounts.ClientKey(http));
        switch (outcome)
        {
            case Outcome.Success s:
                Accounts.SignInBrowser(http, tokens.Issue(s.User));
                return Results.Redirect(Forms.IsLocalPath(returnUrl) ? Forms.SafeReturnUrl(returnUrl) : await LandingAsync(app, s.User.Id));
            case Outcome.Throttled t:
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(t.RetryAfter.TotalSeconds)).ToString();
                return Results.RazorSlice<LoginPage, LoginPageModel>(
                    new LoginPageModel(email, $"Too many failed logins. Try again in {Math.Ceiling(t.RetryAfter.TotalMinutes)} minutes.", returnUrl),
                    StatusCodes.Status429TooManyRequests);
            default:
                return Results.RazorSlice<LoginPage, LoginPageModel>(new LoginPageModel(email, WrongCredentials, returnUrl), StatusCodes.Status401Unauthorized);
        }
    }
}

public sealed record LoginPageModel(string? Email, string? Error, string? ReturnUrl);
