using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Xeno.ShopifyServer;
using Xeno.Web.Tests.Infrastructure;
using Xeno.Web.Tests.Install;

namespace Xeno.Web.Tests.Hardening;

/// <summary>What an operator sees of Xeno running: logs without secrets or personal data, and OpenTelemetry signals.</summary>
[Collection(XenoCollection.Name)]
public sealed partial class OperationsTests(XenoFixture fixture)
{
    [Fact]
    public async Task the_logs_carry_no_secret_and_no_personal_data()
    {
        // Every kind of secret and personal data Xeno handles, each one distinctive, through the paths that log.
        var password = "log-password-" + Guid.NewGuid().ToString("N");
        var (email, token) = await RegisterAsync(password);
        var login = await fixture.CreateClient().PostAsync("/api/v1/auth/login",
            new StringContent($$"""{"email":"{{email}}","password":"wrong-{{password}}"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);

        var shop = ShopGenerator.Generate(seed: 77, orderCount: 30, new ShopGeneratorOptions { Domain = $"logs-{Guid.NewGuid():N}"[..16] + ".myshopify.com" });
        var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, shopToken);
        var store = await fixture.ConnectStoreAsync(token, shop.MyshopifyDomain, shopToken, XenoFixture.WebhookSecret);
        await fixture.WaitForSyncAsync(token, store.Id);
        var wrongToken = "shpat_" + Guid.NewGuid().ToString("N"); // refused by Shopify: a logged failure
        var other = fixture.NewShop();
        await fixture.Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = other.Domain, accessToken = wrongToken }).ToUrl("/api/v1/stores");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(422);
        });

        var flow = new InstallFlow(fixture);
        var (browser, _) = await flow.MerchantAsync();
        var installDomain = fixture.NewShop().Domain;
        var callback = await flow.ApproveAsync(browser, installDomain);
        var code = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri("http://x" + callback).Query)["code"].ToString();
        await browser.GetAsync(callback);

        // A customer's data in a webhook, and a webhook whose body cannot be applied (its failure is logged).
        var customerEmail = $"pii-{Guid.NewGuid():N}@example.org";
        var customer = $$"""{"id": 918273645, "admin_graphql_api_id": "gid://shopify/Customer/918273645", "email": "{{customerEmail}}", "first_name": "Zebedee", "last_name": "Quillfeather", "phone": "+4915112345678", "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z"}""";
        await PostWebhookAsync(shop.MyshopifyDomain, "customers/create", customer);
        await PostWebhookAsync(shop.MyshopifyDomain, "orders/create", $$"""{"id": "not a number", "email": "{{customerEmail}}", "customer": {{customer}}}""");
        await Task.Delay(TimeSpan.FromSeconds(3)); // the workers apply (or fail) both

        var logs = string.Join("\n", fixture.Logs.Lines);
        Assert.NotEmpty(fixture.Logs.Lines);
        string[] secrets = [password, token, shopToken, wrongToken, XenoFixture.WebhookSecret, code, XenoFixture.KeyEncryptionKey];
        foreach (var secret in secrets) Assert.DoesNotContain(secret, logs);
        string[] personal = [email, customerEmail, "Zebedee", "Quillfeather", "+4915112345678",
            .. shop.Customers.Select(c => c.Email).OfType<string>(), .. shop.Customers.Select(c => c.Phone).OfType<string>()];
        foreach (var value in personal) Assert.DoesNotContain(value, logs);
        // And nothing of these kinds from any other test of the run either.
        Assert.DoesNotMatch(AccessToken(), logs);
        Assert.DoesNotMatch(Jwt(), logs);
        Assert.DoesNotContain("pbkdf2-sha512$", logs);
        Assert.DoesNotMatch(EmailAddress(), logs);
    }

    [Fact]
    public async Task traces_and_metrics_of_requests_shopify_calls_sql_and_jobs_reach_the_otlp_collector()
    {
        var (email, token) = await RegisterAsync("otel password");
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken); // a request, Shopify calls, SQL and a sync job
        await fixture.WaitForSyncAsync(token, store.Id);
        var secretQuery = "q-" + Guid.NewGuid().ToString("N");
        await fixture.CreateClient().GetAsync($"/login?returnUrl=/stores%3Fsecret%3D{secretQuery}");

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string[] sources = ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "Xeno.Jobs"];
        // Npgsql's own meter: connection and command figures under db.client.
        string[] metrics = ["http.server.request.duration", "http.client.request.duration", "xeno.job.duration", "db.client."];
        while (DateTime.UtcNow < deadline && !(sources.All(fixture.Collector.Received("traces").Contains) && metrics.All(fixture.Collector.Received("metrics").Contains)))
            await Task.Delay(250);

        var traces = fixture.Collector.Received("traces");
        foreach (var source in sources) Assert.Contains(source, traces);
        Assert.Contains("job SyncJob.RunAsync", traces);
        foreach (var metric in metrics) Assert.Contains(metric, fixture.Collector.Received("metrics"));
        Assert.DoesNotContain(secretQuery, traces); // query strings are redacted
        Assert.DoesNotContain(shopToken, traces);
        // SQL spans keep the statement text, not its parameters: the email was one, in the INSERT of the account.
        Assert.Contains("INSERT INTO users", traces);
        Assert.DoesNotContain(email, traces);
    }

    private async Task<(string Email, string Token)> RegisterAsync(string password)
    {
        var email = XenoFixture.UniqueEmail("ops");
        var response = await fixture.CreateClient().PostAsync("/api/v1/auth/register",
            new StringContent($$"""{"email":"{{email}}","password":"{{password}}"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (email, body.RootElement.GetProperty("token").GetString()!);
    }

    private async Task PostWebhookAsync(string shop, string topic, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Shopify-Topic", topic);
        request.Headers.Add("X-Shopify-Shop-Domain", shop);
        request.Headers.Add("X-Shopify-API-Version", "2026-10");
        request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Event-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Triggered-At", DateTimeOffset.UtcNow.ToString("O"));
        request.Headers.Add("X-Shopify-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(XenoFixture.WebhookSecret), bytes)));
        Assert.Equal(HttpStatusCode.OK, (await fixture.CreateClient().SendAsync(request)).StatusCode);
    }

    [GeneratedRegex(@"shp(at|ua|ca|ss)_[0-9a-fA-F]{8}")]
    private static partial Regex AccessToken();

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")]
    private static partial Regex Jwt();

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+")]
    private static partial Regex EmailAddress();
}
