using System.Globalization;
using System.Text.Json;
using GraphQL;
using GraphQL.Types;
using GraphQLParser.AST;

namespace Xeno.ShopifyServer;

/// <summary>
/// Shopify's requested query cost: scalars and enums 0, every other object 1, a connection
/// 2 + page size × (cost of one node), nested connections multiplying; a mutation 10.
/// </summary>
internal static class QueryCost
{
    public const int MaxCost = 1000;
    public const int MutationCost = 10;

    public sealed record Result(int Requested, IReadOnlyDictionary<string, (int PageSize, int NodeCost)> RootConnections, IReadOnlyList<string> PageSizeErrors)
    {
        /// <summary>The requested cost with each root connection charged for the items it really returned.</summary>
        public int Actual(IReadOnlyDictionary<string, int> returned)
        {
            var actual = Requested;
            foreach (var (key, (pageSize, nodeCost)) in RootConnections)
                if (returned.TryGetValue(key, out var count))
                    actual -= Math.Max(0, pageSize - count) * nodeCost;
            return Math.Max(actual, Requested == 0 ? 0 : 1);
        }
    }

    public static string MaxCostMessage(int cost) =>
        $"Query cost is {cost}, which exceeds the single query max cost limit ({MaxCost}).\n\n" +
        "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n" +
        "cost of a query is calculated.\n\n" +
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n" +
        "See https://shopify.dev/api/usage/bulk-operations/queries for usage details.\n";

    public static Result Compute(ISchema schema, GraphQLDocument document, GraphQLOperationDefinition operation, IReadOnlyDictionary<string, object?>? variables)
    {
        var walker = new Walker(document, variables);
        if (operation.Operation == OperationType.Mutation)
            return new Result(MutationCost, new Dictionary<string, (int, int)>(), []);
        var roots = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        var total = 0;
        foreach (var field in walker.Fields(operation.SelectionSet, schema.Query))
        {
            total += walker.FieldCost(field, schema.Query, out var connection);
            if (connection is { } c)
                roots[(field.Alias?.Name ?? field.Name).StringValue] = c;
        }
        return new Result(total, roots, walker.PageSizeErrors);
    }

    private sealed class Walker(GraphQLDocument document, IReadOnlyDictionary<string, object?>? variables)
    {
        public List<string> PageSizeErrors { get; } = [];

        /// <summary>The fields a selection set asks for, fragments flattened.</summary>
        public IEnumerable<GraphQLField> Fields(GraphQLSelectionSet? selectionSet, IGraphType parent)
        {
            if (selectionSet is null)
                yield break;
            foreach (var selection in selectionSet.Selections)
            {
                switch (selection)
                {
                    case GraphQLField field:
                        yield return field;
                        break;
                    case GraphQLInlineFragment inline:
                        foreach (var f in Fields(inline.SelectionSet, parent))
                            yield return f;
                        break;
                    case GraphQLFragmentSpread spread:
                        var definition = document.Definitions.OfType<GraphQLFragmentDefinition>()
                            .FirstOrDefault(d => d.FragmentName.Name == spread.FragmentName.Name);
                        foreach (var f in Fields(definition?.SelectionSet, parent))
                            yield return f;
                        break;
                }
            }
        }

        public int FieldCost(GraphQLField field, IGraphType parent, out (int PageSize, int NodeCost)? connection)
        {
            connection = null;
            var definition = FindField(parent, field.Name.StringValue);
            if (definition?.ResolvedType is not { } resolved)
                return 0;
            var named = resolved.GetNamedType();
            if (named is ScalarGraphType or EnumerationGraphType)
                return 0;
            if (named is IObjectGraphType objectType && objectType.Name.EndsWith("Connection", StringComparison.Ordinal))
            {
                var pageSize = IntArgument(field, "first") ?? IntArgument(field, "last") ?? 0;
                if (pageSize > Connections.MaxPageSize)
                    PageSizeErrors.Add(Connections.PageSizeMessage(field.Name.StringValue));
                var nodeCost = Math.Max(1, NodeCost(field, objectType));
                connection = (pageSize, nodeCost);
                return 2 + pageSize * nodeCost;
            }
            return 1 + SelectionCost(field.SelectionSet, named);
        }

        private int SelectionCost(GraphQLSelectionSet? selectionSet, IGraphType parent) =>
            Fields(selectionSet, parent).Sum(f => FieldCost(f, ParentFor(f, parent), out _));

        /// <summary>Cost of one item of a connection: the node object plus what is selected inside it.</summary>
        private int NodeCost(GraphQLField connectionField, IObjectGraphType connectionType)
        {
            var cost = 0;
            foreach (var child in Fields(connectionField.SelectionSet, connectionType))
            {
                var childName = child.Name.StringValue;
                if (childName == "nodes")
                {
                    var nodeType = FindField(connectionType, "nodes")?.ResolvedType?.GetNamedType();
                    if (nodeType is not null)
                        cost = Math.Max(cost, 1 + SelectionCost(child.SelectionSet, nodeType));
                }
                else if (childName == "edges" && FindField(connectionType, "edges")?.ResolvedType?.GetNamedType() is { } edgeType)
                {
                    foreach (var edgeChild in Fields(child.SelectionSet, edgeType))
                        if (edgeChild.Name.StringValue == "node" && FindField(edgeType, "node")?.ResolvedType?.GetNamedType() is { } nodeType)
                            cost = Math.Max(cost, 1 + SelectionCost(edgeChild.SelectionSet, nodeType));
                }
            }
            return cost;
        }

        /// <summary>Inline fragments on a concrete type narrow the parent; otherwise stay on the declared type.</summary>
        private IGraphType ParentFor(GraphQLField field, IGraphType parent)
        {
            if (FindField(parent, field.Name.StringValue) is not null)
                return parent;
            if (parent is IAbstractGraphType abstractType)
                return abstractType.PossibleTypes.FirstOrDefault(t => t.GetField(field.Name.StringValue) is not null) ?? parent;
            return parent;
        }

        private static FieldType? FindField(IGraphType type, string name) => type switch
        {
            IComplexGraphType complex => complex.GetField(name),
            IAbstractGraphType abstractType => abstractType.PossibleTypes.Select(t => t.GetField(name)).FirstOrDefault(f => f is not null),
            _ => null,
        };

        private int? IntArgument(GraphQLField field, string name)
        {
            var argument = field.Arguments?.FirstOrDefault(a => a.Name.StringValue == name);
            return argument?.Value switch
            {
                GraphQLIntValue literal => int.TryParse(literal.Value.Span, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null,
                GraphQLVariable variable => variables?.GetValueOrDefault(variable.Name.StringValue) is { } value ? ToInt(value) : DefaultOf(variable),
                _ => null,
            };
        }

        private int? DefaultOf(GraphQLVariable variable)
        {
            var definition = document.Definitions.OfType<GraphQLOperationDefinition>()
                .SelectMany(o => o.Variables ?? (IEnumerable<GraphQLVariableDefinition>)[])
                .FirstOrDefault(v => v.Variable.Name == variable.Name);
            return definition?.DefaultValue is GraphQLIntValue literal && int.TryParse(literal.Value.Span, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
        }

        private static int? ToInt(object value) => value switch
        {
            JsonElement { ValueKind: JsonValueKind.Number } json => json.TryGetInt32(out var n) ? n : int.MaxValue,
            IConvertible convertible => Convert.ToInt32(convertible, CultureInfo.InvariantCulture),
            _ => null,
        };
    }
}
