using System.Net;
using System.Net.Http.Headers;
using Alba;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Xeno.Web.Features.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Auth;

[Collection(XenoCollection.Name)]
public sealed class ApiAuthTests(XenoFixture fixture)
{
    private IAlbaHost Host => fixture.Host;

    [Fact]
    public async Task register_returns_a_bearer_token_for_the_new_user()
    {
        var email = XenoFixture.UniqueEmail();
        var result = await Host.Scenario(s =>
        {
            s.Post.Json(new { email = email.ToUpperInvariant(), password = "eight ch" }).ToUrl("/api/v1/auth/register");
            s.StatusCodeShouldBe(201);
        });
        var body = (await result.ReadAsJsonAsync<AuthResponse>())!;
        Assert.Equal("Bearer", body.TokenType);
        Assert.Equal(email, body.User.Email);
        var lifetime = body.ExpiresAt - DateTimeOffset.UtcNow;
        Assert.InRange(lifetime, TimeSpan.FromMinutes(50), TimeSpan.FromMinutes(60));

        var jwt = new JsonWebToken(body.Token);
        Assert.Equal("HS256", jwt.Alg);
        Assert.Equal(body.User.Id.ToString(), jwt.Subject);
    }

    [Fact]
    public async Task the_password_is_stored_as_a_pbkdf2_sha512_hash_with_at_least_210000_iterations()
    {
        var (email, _) = await fixture.RegisterAsync("my secret password");
        await using var scope = Host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecretsDb>();
        var hash = await db.Users.Where(u => u.Email == email).Select(u => db.UserPasswords.Single(p => p.UserId == u.Id).Hash).SingleAsync();
        Assert.DoesNotContain("my secret password", hash);
        var parts = hash.Split('$');
        Assert.Equal("pbkdf2-sha512", parts[0]);
        Assert.True(int.Parse(parts[1]) >= 210_000);
    }

    [Theory]
    [InlineData("not-an-email", "long enough password")]
    [InlineData("someone@", "long enough password")]
    [InlineData("VALID", "seven c")]
    [InlineData("VALID", null)]
    public async Task register_rejects_a_bad_email_or_password_with_400(string email, string? password)
    {
        if (email == "VALID") email = XenoFixture.UniqueEmail();
        await Host.Scenario(s =>
        {
            s.Post.Json(new { email, password }).ToUrl("/api/v1/auth/register");
            s.StatusCodeShouldBe(400);
            s.ContentTypeShouldBe("application/problem+json");
        });
    }

    [Fact]
    public async Task passwords_of_8_and_128_characters_are_accepted_and_129_refused()
    {
        foreach (var (length, status) in new[] { (8, 201), (128, 201), (129, 400) })
        {
            await Host.Scenario(s =>
            {
                s.Post.Json(new { email = XenoFixture.UniqueEmail(), password = new string('a', length) }).ToUrl("/api/v1/auth/register");
                s.StatusCodeShouldBe(status);
            });
        }
    }

    [Fact]
    public async Task register_with_a_taken_email_answers_409()
    {
        var (email, _) = await fixture.RegisterAsync();
        await Host.Scenario(s =>
        {
            s.Post.Json(new { email, password = "another password" }).ToUrl("/api/v1/auth/register");
            s.StatusCodeShouldBe(409);
        });
    }

    [Fact]
    public async Task login_answers_a_token_and_one_message_for_a_wrong_email_or_password()
    {
        var (email, _) = await fixture.RegisterAsync("right password");
        var ok = await Host.Scenario(s => { s.Post.Json(new { email, password = "right password" }).ToUrl("/api/v1/auth/login"); s.StatusCodeShouldBeOk(); });
        Assert.False(string.IsNullOrEmpty((await ok.ReadAsJsonAsync<AuthResponse>())!.Token));

        var wrongPassword = await Host.Scenario(s => { s.Post.Json(new { email, password = "wrong password" }).ToUrl("/api/v1/auth/login"); s.StatusCodeShouldBe(401); });
        var wrongEmail = await Host.Scenario(s => { s.Post.Json(new { email = XenoFixture.UniqueEmail(), password = "right password" }).ToUrl("/api/v1/auth/login"); s.StatusCodeShouldBe(401); });
        var first = await wrongPassword.ReadAsJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>();
        var second = await wrongEmail.ReadAsJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>();
        Assert.Equal("Wrong email or password.", first!.Title);
        Assert.Equal(first.Title, second!.Title);
    }

    [Fact]
    public async Task login_is_throttled_per_account_after_repeated_failures_even_with_the_right_password()
    {
        var (email, _) = await fixture.RegisterAsync("right password");
        for (var i = 0; i < 5; i++)
        {
            await Host.Scenario(s =>
            {
                s.Post.Json(new { email, password = "wrong password" }).ToUrl("/api/v1/auth/login");
                s.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = IPAddress.Parse($"10.1.0.{i + 1}"));
                s.StatusCodeShouldBe(401);
            });
        }
        var throttled = await Host.Scenario(s =>
        {
            s.Post.Json(new { email, password = "right password" }).ToUrl("/api/v1/auth/login");
            s.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = IPAddress.Parse("10.1.0.99"));
            s.StatusCodeShouldBe(429);
        });
        Assert.True(int.Parse(throttled.Context.Response.Headers.RetryAfter!) > 0);
    }

    [Fact]
    public async Task login_is_throttled_per_client_across_accounts()
    {
        var client = IPAddress.Parse("10.2.0.1");
        for (var i = 0; i < 20; i++)
        {
            await Host.Scenario(s =>
            {
                s.Post.Json(new { email = XenoFixture.UniqueEmail(), password = "wrong password" }).ToUrl("/api/v1/auth/login");
                s.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = client);
                s.StatusCodeShouldBe(401);
            });
        }
        var (email, _) = await fixture.RegisterAsync("right password");
        await Host.Scenario(s =>
        {
            s.Post.Json(new { email, password = "right password" }).ToUrl("/api/v1/auth/login");
            s.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = client);
            s.StatusCodeShouldBe(429);
        });
    }

    [Fact]
    public async Task api_calls_without_a_valid_token_answer_401()
    {
        await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.StatusCodeShouldBe(401); });
        await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken("not.a.token"); s.StatusCodeShouldBe(401); });

        // A token signed with another key, however well-formed, is refused.
        var (_, token) = await fixture.RegisterAsync();
        var forged = token[..(token.LastIndexOf('.') + 1)] + new string('A', 43);
        await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken(forged); s.StatusCodeShouldBe(401); });
    }

    [Fact]
    public async Task the_browser_cookie_does_not_authenticate_the_api()
    {
        var (_, token) = await fixture.RegisterAsync();
        await Host.Scenario(s =>
        {
            s.Get.Url("/api/v1/stores");
            s.WithRequestHeader("Cookie", "xeno_auth=" + token);
            s.StatusCodeShouldBe(401);
        });
    }

    [Fact]
    public async Task logout_revokes_every_earlier_token()
    {
        var (email, first) = await fixture.RegisterAsync("right password");
        var login = await Host.Scenario(s => { s.Post.Json(new { email, password = "right password" }).ToUrl("/api/v1/auth/login"); });
        var second = (await login.ReadAsJsonAsync<AuthResponse>())!.Token;

        await Host.Scenario(s => { s.Post.Url("/api/v1/auth/logout"); s.WithBearerToken(second); s.StatusCodeShouldBe(204); });

        await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken(first); s.StatusCodeShouldBe(401); });
        await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken(second); s.StatusCodeShouldBe(401); });
    }

    [Fact]
    public async Task a_password_change_revokes_earlier_tokens_and_the_old_password()
    {
        var (email, old) = await fixture.RegisterAsync("first password");
        var changed = await Host.Scenario(s =>
        {
            s.Post.Json(new { currentPassword = "first password", newPassword = "second password" }).ToUrl("/api/v1/auth/password");
            s.WithBearerToken(old);
            s.StatusCodeShouldBeOk();
        });
        var fresh = (await changed.ReadAsJsonAsync<AuthResponse>())!.Token;

        await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken(old); s.StatusCodeShouldBe(401); });
        await Host.Scenario(s => { s.Get.Url("/api/v1/stores"); s.WithBearerToken(fresh); s.StatusCodeShouldBeOk(); });
        await Host.Scenario(s => { s.Post.Json(new { email, password = "first password" }).ToUrl("/api/v1/auth/login"); s.StatusCodeShouldBe(401); });
        await Host.Scenario(s => { s.Post.Json(new { email, password = "second password" }).ToUrl("/api/v1/auth/login"); s.StatusCodeShouldBeOk(); });
    }
}
