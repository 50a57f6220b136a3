using System.Net;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Sync;

[Collection(XenoCollection.Name)]
public sealed class OperatorDashboardTests(XenoFixture fixture)
{
    [Fact]
    public async Task the_job_dashboard_is_closed_to_merchants()
    {
        var (anonymous, _) = await new BrowserSession(fixture.CreateClient()).GetAsync("/hangfire");
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);

        var merchant = new BrowserSession(fixture.CreateClient());
        await merchant.PostFormAsync("/register", "/register", new Dictionary<string, string> { ["email"] = XenoFixture.UniqueEmail(), ["password"] = "merchant password" });
        var (response, html) = await merchant.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("Xeno jobs", html);
    }

    [Fact]
    public async Task an_operator_sees_the_job_dashboard()
    {
        var op = new BrowserSession(fixture.CreateClient());
        await op.PostFormAsync("/register", "/register", new Dictionary<string, string> { ["email"] = XenoFixture.OperatorEmail, ["password"] = "operator password" });
        var (response, html) = await op.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Xeno jobs", html);
    }
}
