using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xeno.Web.Features.Shared;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Auth;

public static class Register
{
    public abstract record Outcome
    {
        public sealed record Created(User User) : Outcome;
        public sealed record Invalid(string Message) : Outcome;
        public sealed record EmailTaken : Outcome;
        public sealed record Throttled(TimeSpan RetryAfter) : Outcome;
    }

    public static async Task<Outcome> ExecuteAsync(SecretsDb db, LoginThrottling throttling, TimeProvider clock, string client, string? emailInput, string? password)
    {
        // Counted before any work: each registration hashes a password, which is slow on purpose.
        if (await throttling.RegistrationAsync(client) is { } wait) return new Outcome.Throttled(wait);
        var email = Accounts.NormalizeEmail(emailInput);
        if (!Accounts.IsValidEmail(email)) return new Outcome.Invalid("Enter a valid email address.");
        if (!PasswordHasher.IsAcceptable(password))
            return new Outcome.Invalid($"The password must be {PasswordHasher.MinLength} to {PasswordHasher.MaxLength} characters long.");
        if (await db.Users.AnyAsync(u => u.Email == email)) return new Outcome.EmailTaken();

        var now = clock.GetUtcNow();
        var user = new User { Id = Guid.CreateVersion7(), Email = email, CreatedAt = now };
        db.Users.Add(user);
        db.UserPasswords.Add(new UserPassword { UserId = user.Id, Hash = PasswordHasher.Hash(password!), ChangedAt = now });
        try { await db.SaveChangesAsync(); }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return new Outcome.EmailTaken(); // registered by a concurrent request
        }
        return new Outcome.Created(user);
    }

    public static async Task<IResult> HandleApiAsync(AuthRequest request, HttpContext http, SecretsDb db, LoginThrottling throttling, JwtTokens tokens, TimeProvider clock)
    {
        switch (await ExecuteAsync(db, throttling, clock, Accounts.ClientKey(http), request.Email, request.Password))
        {
            case Outcome.Created c:
                return TypedResults.Created($"/api/v1/users/{c.User.Id}", AuthResponse.From(c.User, tokens.Issue(c.User)));
            case Outcome.Invalid i:
                return TypedResults.Problem(title: i.Message, statusCode: StatusCodes.Status400BadRequest);
            case Outcome.Throttled t:
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(t.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Problem(title: TooMany, statusCode: StatusCodes.Status429TooManyRequests);
            default:
                return TypedResults.Problem(title: "An account with this email already exists.", statusCode: StatusCodes.Status409Conflict);
        }
    }

    public const string TooMany = "Too many new accounts from this address. Try again later.";

    public static IResult ShowPage(string? returnUrl) => RegisterPage.Create(new RegisterPageModel(null, null, returnUrl));

    public static async Task<IResult> HandlePageAsync(HttpContext http, SecretsDb db, LoginThrottling throttling, JwtTokens tokens, TimeProvider clock)
    {
        var form = await http.Request.ReadFormAsync();
        var email = form["email"].ToString();
        var returnUrl = form["returnUrl"].ToString();
        var outcome = await ExecuteAsync(db, throttling, clock, Accounts.ClientKey(http), email, form["password"]);
        switch (outcome)
        {
            case Outcome.Created c:
                Accounts.SignInBrowser(http, tokens.Issue(c.User));
                // Back to where the visitor was going, e.g. an install Shopify started.
                return Results.Redirect(Forms.SafeReturnUrl(returnUrl), preserveMethod: false);
            case Outcome.Invalid i:
                return RegisterPage.Create(new RegisterPageModel(email, i.Message, returnUrl));
            case Outcome.Throttled t:
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(t.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.RazorSlice<RegisterPage, RegisterPageModel>(new RegisterPageModel(email, TooMany, returnUrl), StatusCodes.Status429TooManyRequests);
            default:
                return RegisterPage.Create(new RegisterPageModel(email, "An account with this email already exists. Log in instead.", returnUrl));
        }
    }
}

public sealed record RegisterPageModel(string? Email, string? Error, string? ReturnUrl);
