namespace Xeno.ShopifyServer.Tests;

public class SchemaTests
{
    [Fact]
    public void valid_orders_query_passes()
    {
        var errors = ShopifySchema.Validate("""
            query Orders($after: String, $query: String) {
              orders(first: 5, after: $after, query: $query, sortKey: UPDATED_AT) {
                pageInfo { hasNextPage endCursor }
                nodes {
                  id legacyResourceId name processedAt updatedAt cancelledAt test currencyCode presentmentCurrencyCode
                  customer { id }
                  totalShippingPriceSet { shopMoney { amount currencyCode } }
                  totalTaxSet { shopMoney { amount } }
                  lineItems(first: 5) { nodes { id quantity currentQuantity isGiftCard
                    originalUnitPriceSet { shopMoney { amount } presentmentMoney { amount } }
                    discountAllocations { allocatedAmountSet { shopMoney { amount } } }
                    product { id title } variant { id } } }
                  refunds { id createdAt
                    refundLineItems(first: 5) { nodes { quantity lineItem { id } subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } } } }
                    refundShippingLines(first: 2) { nodes { subtotalAmountSet { shopMoney { amount } } taxAmountSet { shopMoney { amount } } } } }
                }
              }
            }
            """, new Dictionary<string, object?> { ["after"] = null, ["query"] = "updated_at:>='2026-01-01T00:00:00Z'" });
        Assert.Empty(errors);
    }

    [Fact]
    public void unknown_field_is_named()
    {
        var errors = ShopifySchema.Validate("{ shop { name nonsenseField } }");
        Assert.Contains(errors, e => e.Contains("nonsenseField"));
    }

    [Fact]
    public void wrong_argument_is_named()
    {
        var errors = ShopifySchema.Validate("{ orders(first: 10, pageSize: 3) { nodes { id } } }");
        Assert.Contains(errors, e => e.Contains("pageSize"));
    }

    [Fact]
    public void wrong_enum_value_and_unknown_type_are_refused()
    {
        Assert.NotEmpty(ShopifySchema.Validate("{ orders(first: 10, sortKey: NOPE) { nodes { id } } }"));
        Assert.NotEmpty(ShopifySchema.Validate("query($x: NoSuchType) { shop { name } }"));
        Assert.NotEmpty(ShopifySchema.Validate("{ shop { name "));
    }

    [Fact]
    public void page_size_and_cost_limits_are_refused()
    {
        Assert.Contains(ShopifySchema.Validate("{ orders(first: 251) { nodes { id } } }"), e => e.Contains("250"));
        var errors = ShopifySchema.Validate("query($n: Int) { orders(first: $n) { nodes { lineItems(first: 50) { nodes { id } } } } }",
            new Dictionary<string, object?> { ["n"] = 100 });
        Assert.Contains(errors, e => e.Contains("exceeds the single query max cost limit (1000)"));
    }
}
