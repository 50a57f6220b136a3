using Alba;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Health;

[Collection(XenoCollection.Name)]
public sealed class HealthTests(XenoFixture fixture)
{
    [Fact]
    public async Task healthz_and_readyz_answer_200_once_migrations_are_applied()
    {
        await fixture.Host.Scenario(s => { s.Get.Url("/healthz"); s.StatusCodeShouldBeOk(); });
        await fixture.Host.Scenario(s => { s.Get.Url("/readyz"); s.StatusCodeShouldBeOk(); });
    }
}
