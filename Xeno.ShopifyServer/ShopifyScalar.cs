using System.Globalization;
using GraphQL.Types;
using GraphQLParser.AST;

namespace Xeno.ShopifyServer;

/// <summary>
/// A Shopify custom scalar. Inputs pass through untouched; outputs are written the way Shopify writes
/// them: Decimal and Money as strings ("29.99"), UnsignedInt64 as a string, DateTime in UTC with "Z".
/// </summary>
internal sealed class ShopifyScalar : ScalarGraphType
{
    public ShopifyScalar(string name) => Name = name;

    public override object? ParseValue(object? value) => value;

    public override object? ParseLiteral(GraphQLValue value) => value switch
    {
        GraphQLNullValue => null,
        GraphQLStringValue s => s.Value.ToString(),
        GraphQLIntValue i => i.Value.ToString(),
        GraphQLFloatValue f => f.Value.ToString(),
        GraphQLBooleanValue b => b.BoolValue,
        GraphQLEnumValue e => e.Name.StringValue,
        _ => value,
    };

    public override bool CanParseLiteral(GraphQLValue value) => true;

    public override bool CanParseValue(object? value) => true;

    public override bool IsValidDefault(object value) => true;

    public override GraphQLValue ToAST(object? value) => value switch
    {
        null => new GraphQLNullValue(),
        _ => new GraphQLStringValue(Serialize(value)?.ToString() ?? ""),
    };

    public override object? Serialize(object? value) => value switch
    {
        null => null,
        decimal d => d.ToString(CultureInfo.InvariantCulture),
        DateTimeOffset dto => Name == "Date"
            ? dto.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : dto.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        DateTime dt => dt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        long l when Name is "UnsignedInt64" or "BigInt" => l.ToString(CultureInfo.InvariantCulture),
        int i when Name is "UnsignedInt64" or "BigInt" => i.ToString(CultureInfo.InvariantCulture),
        Uri uri => uri.ToString(),
        _ => value,
    };
}
