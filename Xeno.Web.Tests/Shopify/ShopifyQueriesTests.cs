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
        // The variables Xeno sends, at the largest page sizes it asks for, so that cost is checked too.
        var first = name switch { "Orders" => ShopifyQueries.OrdersPageSize, "Products" => ShopifyQueries.ProductsPageSize, _ => 100 };
        var variables = new Dictionary<string, object?>
        {
            ["first"] = first, ["after"] = null, ["query"] = name == "BulkRunQuery" ? ShopifyBulkQueries.Orders : "updated_at:>='2026-01-01T00:00:00Z'",
            ["id"] = "gid://shopify/Order/1",
            ["ids"] = Enumerable.Range(1, ShopifyQueries.RefundDetailsPageSize).Select(i => (object?)$"gid://shopify/Refund/{i}").ToList(),
            ["topic"] = "ORDERS_CREATE", ["uri"] = "https://xeno.example/webhooks/shopify",
        };
        var declared = variables.Where(v => document.Contains("$" + v.Key + ":")).ToDictionary();
        Assert.Empty(ShopifySchema.Validate(document, declared));
    }

    [Fact]
    public void a_field_shopifys_schema_lacks_fails_validation()
    {
        var errors = ShopifySchema.Validate("query { shop { name currencyCode planDisplayNameTypo } }");
        Assert.Contains(errors, e => e.Contains("planDisplayNameTypo"));
    }
}
