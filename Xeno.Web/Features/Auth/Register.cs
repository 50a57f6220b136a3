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
    }

    public static async Task<Outcome> ExecuteAsync(XenoDb db, TimeProvider clock, string? emailInput, string? password)
    {
        var email = Accounts.NormalizeEmail(emailInput);
        if (!Accounts.IsValidEmail(email)) return new Outcome.Invalid("Enter a valid email address.");
        if (!PasswordHasher.IsAcceptable(password))
            return new Outcome.Invalid($"The password must be {PasswordHasher.MinLength} to {PasswordHasher.MaxLength} characters long.");
        if (await db.Users.AnyAsync(u => u.Email == email)) return new Outcome.EmailTaken();

        var user = new User { Id = Guid.CreateVersion7(), Email = email, PasswordHash = PasswordHasher.Hash(password!), CreatedAt = clock.GetUtcNow() };
        db.Users.Add(user);
        try { await db.SaveChangesAsync(); }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return new Outcome.EmailTaken(); // registered by a concurrent request
        }
        return new Outcome.Created(user);
    }

    public static async Task<IResult> HandleApiAsync(AuthRequest request, XenoDb db, JwtTokens tokens, TimeProvider clock) =>
        await ExecuteAsync(db, clock, request.Email, request.Password) switch
        {
            Outcome.Created c => TypedResults.Created($"/api/v1/users/{c.User.Id}", AuthResponse.From(c.User, tokens.Issue(c.User))),
            Outcome.Invalid i => TypedResults.Problem(title: i.Message, statusCode: StatusCodes.Status400BadRequest),
            _ => TypedResults.Problem(title: "An account with this email already exists.", statusCode: StatusCodes.Status409Conflict),
        };

    public static IResult ShowPage(string? returnUrl) => RegisterPage.Create(new RegisterPageModel(null, null, returnUrl));

    public static async Task<IResult> HandlePageAsync(HttpContext http, XenoDb db, JwtTokens tokens, TimeProvider clock)
    {
        var form = await http.Request.ReadFormAsync();
        var email = form["email"].ToString();
        var returnUrl = form["returnUrl"].ToString();
        var outcome = await ExecuteAsync(db, clock, email, form["password"]);
        switch (outcome)
        {
            case Outcome.Created c:
                Accounts.SignInBrowser(http, tokens.Issue(c.User));
                // Back to where the visitor was going, e.g. an install Shopify started.
                return Results.Redirect(Forms.SafeReturnUrl(returnUrl), preserveMethod: false);
            case Outcome.Invalid i:
                return RegisterPage.Create(new RegisterPageModel(email, i.Message, returnUrl));
            default:
                return RegisterPage.Create(new RegisterPageModel(email, "An account with this email already exists. Log in instead.", returnUrl));
        }
    }
}

public sealed record RegisterPageModel(string? Email, string? Error, string? ReturnUrl);
