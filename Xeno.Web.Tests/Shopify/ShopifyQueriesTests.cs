using Xeno.ShopifyServer;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Tests.Shopify;

public sealed class ShopifyQueriesTests
{
    public static TheoryData<string> Documents() => new(ShopifyQueries.All().Select(q => q.Name));

    [Theory]
    [MemberData(nameof(Documents))]
    public void every_document_xeno_sends_is_valid_against_shopifys_2026_10_schema(string name)
    {
        var document = ShopifyQueries.All().Single(q => q.Name == name).Document;
        Assert.Empty(ShopifySchema.Validate(document));
    }

    [Fact]
    public void a_field_shopifys_schema_lacks_fails_validation()
    {
        var errors = ShopifySchema.Validate("query { shop { name currencyCode planDisplayNameTypo } }");
        Assert.Contains(errors, e => e.Contains("planDisplayNameTypo"));
    }
}
