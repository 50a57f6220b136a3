using System.Net;
using CsCheck;
using Xeno.Web.Tests.Infrastructure;
using Xunit.Abstractions;
using static Xeno.Web.Tests.BadInput.RequestBodies;

namespace Xeno.Web.Tests.BadInput;

/// <summary>
/// Registration, login and password change, through the API (JSON) and the pages (forms), with odd emails, long and
/// empty and null passwords, values of the wrong JSON type and bodies that are not what the content type says. Never a
/// 5xx; the API's rejections are problem+json; a rejected request writes nothing (only the failed-login counters move).
/// </summary>
[Collection(XenoCollection.Name)]
public sealed class AuthPropertyTests(XenoFixture fixture, ITestOutputHelper output)
{
    internal enum Endpoint { ApiRegister, ApiLogin, ApiPassword, ApiPasswordWithoutToken, PageRegister, PageLogin, PagePassword }

    internal sealed record Case(Endpoint Endpoint, Shape Shape, int ContentType, Field Email, Field Password, Field Extra, int Client);

    private static readonly Gen<Case> Cases = Gen.Select(
        Gen.Frequency((3, Gen.Const(Endpoint.ApiRegister)), (2, Gen.Const(Endpoint.ApiLogin)), (1, Gen.Enum<Endpoint>())),
        ShapeGen, ContentTypeGen, FieldGen, FieldGen, FieldGen, Gen.Int[1, 60_000],
        (e, s, c, email, password, extra, client) => new Case(e, s, c, email, password, extra, client));

    private sealed class Account
    {
        public required string Email { get; init; }
        public required string Password { get; set; }
        public required string Token { get; set; }
    }

    [Fact]
    public async Task any_register_login_or_password_request_gets_no_5xx_and_a_rejection_writes_nothing()
    {
        var (email, token) = await fixture.RegisterAsync("the first password");
        var account = new Account { Email = email, Password = "the first password", Token = token };
        var outcomes = new Dictionary<string, int>();
        await DatabaseFingerprint.WaitQuietAsync(fixture.OwnerConnectionString, []);
        await PropertyRun.RunAsync(Cases, async c =>
        {
            var (request, _) = await BuildAsync(c, account);
            var before = await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, []);
            var response = await request.SendAsync(fixture, new IPAddress([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte)(c.Client >> 8), (byte)c.Client]));
            var key = $"{c.Endpoint} {response.Outcome}";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            if (response.Status >= 500) throw new Exception($"5xx: {response}");
            var api = c.Endpoint.ToString().StartsWith("Api");
            // The API answers 200 or 201; the register and login pages redirect; the account page answers itself, saying
            // the password changed (its 302 is the sign-in challenge: not signed in, nothing changed).
            var success = api ? response.Status is 200 or 201
                : c.Endpoint == Endpoint.PagePassword ? response.Status == 200 && response.Body.Contains("Password changed.")
                : response.Status == 302;
            if (c.Endpoint is Endpoint.ApiPassword or Endpoint.PagePassword && success)
            {
                // The account's password changed (and with it its token): follow it, so later cases use the new ones.
                account.Password = NewPasswordSent(request, c.Endpoint == Endpoint.ApiPassword);
                await RenewAsync(account);
            }
            if (success) return;
            if (api && response.Status is >= 400 and < 500 && !response.IsProblem) throw new Exception($"A rejection without problem+json: {response}");
            (await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, [])).ShouldEqual(before, $"A rejected request ({response.Status})");
        }, cases: 120, print: c => BuildAsync(c, account).GetAwaiter().GetResult() is var (r, d) ? $"{d}\n{r}" : "");
        output.WriteLine(string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} ×{o.Value}")));
    }

    private static string[] PlausibleEmails(Account account) =>
    [
        $"new-{Guid.NewGuid():N}@example.com", account.Email, "  " + account.Email.ToUpperInvariant() + " ", "no-at-sign.example.com",
        $"ünïcode-{Guid.NewGuid():N}@exämple.com", "a@b", new string('a', 310) + "@example.com", $"\"quoted name\"@example.com",
    ];

    private static string[] PlausiblePasswords(Account account) =>
    [
        "correct horse battery", account.Password, "short", new string('p', 128), new string('p', 129),
        string.Concat(Enumerable.Repeat("🦄", 128)), string.Concat(Enumerable.Repeat("🦄", 129)), "        ",
    ];

    private async Task<(RawRequest Request, string Description)> BuildAsync(Case c, Account account)
    {
        var emails = PlausibleEmails(account);
        var passwords = PlausiblePasswords(account);
        var isPassword = c.Endpoint is Endpoint.ApiPassword or Endpoint.ApiPasswordWithoutToken or Endpoint.PagePassword;
        (string, Field, string[])[] fields = isPassword
            ? [("currentPassword", c.Email, [account.Password, "wrong password", "", "\u0000"]), ("newPassword", c.Password, passwords), ("email", c.Extra, emails)]
            : [("email", c.Email, emails), ("password", c.Password, passwords), (c.Endpoint == Endpoint.PageLogin ? "returnUrl" : "extra", c.Extra, ["/account", "//evil.example", "javascript:alert(1)", "/stores?x=\r\n"])];
        var description = $"{c.Endpoint}, {c.Shape}, fields: " + string.Join(", ", fields.Select(f => $"{f.Item1}={f.Item2.Kind}"));

        if (c.Endpoint is Endpoint.PageRegister or Endpoint.PageLogin or Endpoint.PagePassword)
        {
            var path = c.Endpoint switch { Endpoint.PageRegister => "/register", Endpoint.PageLogin => "/login", _ => "/account/password" };
            var browser = new BrowserSession(fixture.CreateClient());
            if (c.Endpoint == Endpoint.PagePassword) browser.UseToken(account.Token);
            var (_, html) = await browser.GetAsync(c.Endpoint == Endpoint.PagePassword ? "/account" : path);
            var token = System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
            var form = new RawRequest("POST", path, Form(c.Shape, fields, WebUtility.HtmlDecode(token)),
                c.ContentType == 0 ? "application/x-www-form-urlencoded" : ContentTypes[c.ContentType]);
            form.With("Cookie", string.Join("; ", browser.Cookies.Select(k => $"{k.Key}={k.Value}")));
            return (form, description);
        }
        var api = c.Endpoint switch
        {
            Endpoint.ApiRegister => "/api/v1/auth/register",
            Endpoint.ApiLogin => "/api/v1/auth/login",
            _ => "/api/v1/auth/password",
        };
        var request = new RawRequest("POST", api, Json(c.Shape, fields), ContentTypes[c.ContentType] is { Length: > 0 } t ? t : null);
        if (c.Endpoint == Endpoint.ApiPassword) request.With("Authorization", "Bearer " + account.Token);
        return (request, description);
    }

    private sealed record PasswordBody(string? CurrentPassword, string? NewPassword);

    /// <summary>The new password as Xeno read it from the request: JSON as minimal APIs bind it, a form as the page reads it.</summary>
    private static string NewPasswordSent(RawRequest request, bool json) => json
        ? System.Text.Json.JsonSerializer.Deserialize<PasswordBody>(request.Body, System.Text.Json.JsonSerializerOptions.Web)!.NewPassword!
        : Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(System.Text.Encoding.UTF8.GetString(request.Body!))["newPassword"].ToString();

    private async Task RenewAsync(Account account)
    {
        var login = await new RawRequest("POST", "/api/v1/auth/login",
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { email = account.Email, password = account.Password }), "application/json")
            .SendAsync(fixture, IPAddress.Parse("2001:db8::1:1"));
        if (login.Status != 200) throw new Exception($"The account's new password does not log in: {login}");
        account.Token = System.Text.Json.JsonDocument.Parse(login.Body).RootElement.GetProperty("token").GetString()!;
    }
}
