using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using GraphQL;
using GraphQL.Resolvers;
using GraphQL.Types;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>An object without a model class (connections, payloads, defaults), keyed by schema field name.</summary>
internal sealed class GraphObject(string typeName, Dictionary<string, object?>? values = null)
{
    public string TypeName { get; } = typeName;
    public Dictionary<string, object?> Values { get; } = values ?? new(StringComparer.Ordinal);
}

/// <summary>What a resolver needs to know about the request it serves.</summary>
internal sealed class ShopifyRequestContext(Shop shop, ShopifyApp app) : Dictionary<string, object?>
{
    public Shop Shop { get; } = shop;

    /// <summary>The app of the access token: as on Shopify, it sees and changes only its own webhook subscriptions.</summary>
    public ShopifyApp App { get; } = app;

    /// <summary>Items returned per root connection, to compute the actual cost as Shopify does.</summary>
    public ConcurrentDictionary<string, int> RootPageSizes { get; } = new(StringComparer.Ordinal);

    /// <summary>Scheme, host and route prefix the request came to: where bulk results of this request are served.</summary>
    public string Origin { get; init; } = "http://127.0.0.1";

    /// <summary>Set while a bulk query executes one of its pages: connections then page the bulk way.</summary>
    public BulkExecution? Bulk { get; init; }
}

/// <summary>
/// Resolves every field of the schema generically: a model's property named after the field, its
/// <see cref="GraphModel.Extra"/> entry, or a schema-typed default when the field is non-null. Lists
/// under a <c>…Connection</c> type are paged; the root fields read the shop of the request.
/// </summary>
internal static class GraphResolvers
{
    private static readonly ConcurrentDictionary<(Type, string), Func<object, object?>> Accessors = new();

    public static string TypeNameOf(object source) => source switch
    {
        GraphModel model => model.GraphTypeName,
        GraphObject graphObject => graphObject.TypeName,
        _ => source.GetType().Name,
    };

    public static IFieldResolver For(string typeName, string fieldName) => typeName switch
    {
        "QueryRoot" => new FuncFieldResolver<object?>(ctx => Complete(RootFields.Query(ctx, fieldName), ctx)),
        "Mutation" => new FuncFieldResolver<object?>(ctx => RootFields.Mutation(ctx, fieldName)),
        _ => new FuncFieldResolver<object?>(ctx => Complete(Member(ctx.Source!, fieldName), ctx)),
    };

    internal static ShopifyRequestContext RequestContext(IResolveFieldContext ctx) =>
        ctx.UserContext as ShopifyRequestContext
        ?? throw new InvalidOperationException("Queries run through the Shopify Admin API endpoint, which supplies the shop.");

    private static object? Member(object source, string fieldName)
    {
        if (source is GraphObject graphObject)
            return graphObject.Values.GetValueOrDefault(fieldName);
        var accessor = Accessors.GetOrAdd((source.GetType(), fieldName), static key => BuildAccessor(key.Item1, key.Item2));
        return accessor(source);
    }

    private static Func<object, object?> BuildAccessor(Type type, string fieldName)
    {
        if (fieldName == "id" && typeof(GraphModel).IsAssignableFrom(type))
            return source => ((GraphModel)source).Gid;
        // The shop's own lists are read under the request's gate; the public properties would take it again.
        if (type == typeof(Shop))
        {
            switch (fieldName)
            {
                case "orders": return source => ((Shop)source).OrderList;
                case "customers": return source => ((Shop)source).CustomerList;
                case "products": return source => ((Shop)source).ProductList;
            }
        }
        var property = type.GetProperty(char.ToUpperInvariant(fieldName[0]) + fieldName[1..], BindingFlags.Public | BindingFlags.Instance);
        if (property is not null && property.GetIndexParameters().Length == 0)
            return property.GetValue;
        return source => source is GraphModel model ? model.ExtraValue(fieldName) : null;
    }

    /// <summary>Pages lists under connection types and fills nulls the schema does not allow.</summary>
    internal static object? Complete(object? value, IResolveFieldContext ctx)
    {
        var type = ctx.FieldDefinition.ResolvedType!;
        var named = type.GetNamedType();
        if (named is IObjectGraphType && named.Name.EndsWith("Connection", StringComparison.Ordinal) && value is IEnumerable items and not string)
            return Connections.Page(items.Cast<object>(), named.Name, ctx);
        return value ?? (type is NonNullGraphType ? DefaultFor(type, ctx) : null);
    }

    private static object? DefaultFor(IGraphType type, IResolveFieldContext ctx)
    {
        switch (type)
        {
            case NonNullGraphType nonNull:
                return DefaultFor(nonNull.ResolvedType!, ctx);
            case ListGraphType:
                return Array.Empty<object>();
            case EnumerationGraphType enumeration:
                return enumeration.Values.First().Value;
            case IObjectGraphType objectType when objectType.Name.EndsWith("Connection", StringComparison.Ordinal):
                return Connections.Page([], objectType.Name, ctx);
            case IObjectGraphType objectType:
                return new GraphObject(objectType.Name);
            case IAbstractGraphType abstractType:
                return new GraphObject(abstractType.PossibleTypes.First().Name);
            case ScalarGraphType scalar:
                return scalar.Name switch
                {
                    "Boolean" => false,
                    "Int" => 0,
                    "Float" => 0.0,
                    "Decimal" or "Money" => 0.0m,
                    "UnsignedInt64" or "BigInt" => 0L,
                    "DateTime" => (ctx.Source as TimestampedModel)?.CreatedAt ?? DateTimeOffset.UnixEpoch,
                    "URL" => RequestContext(ctx).Shop.Url,
                    "JSON" => new Dictionary<string, object?>(),
                    _ => "",
                };
            default:
                return null;
        }
    }
}
