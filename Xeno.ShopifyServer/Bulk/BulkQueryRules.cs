using GraphQL;
using GraphQL.Types;
using GraphQLParser.AST;
using GraphQLParser.Exceptions;

namespace Xeno.ShopifyServer;

/// <summary>
/// What <c>bulkOperationRunQuery</c> accepts: a query the schema accepts, then Shopify's bulk rules, in
/// Shopify's words: one top-level field, at least one and at most five connections, nested at most two deep,
/// each read through <c>edges { node }</c>, a nested connection's parent node selecting its <c>id</c> (it becomes
/// the children's <c>__parentId</c>), and no connection inside a list. There is no cost limit.
/// </summary>
internal static class BulkQueryRules
{
    public const int MaxConnections = 5;
    public const int MaxConnectionDepth = 2;

    /// <summary>The parsed document and no errors, or no document and the userError messages (all with code INVALID).</summary>
    public static (GraphQLDocument? Document, IReadOnlyList<string> Errors) Check(string query)
    {
        GraphQLDocument document;
        try
        {
            document = GraphQLParser.Parser.Parse(query);
        }
        catch (GraphQLSyntaxErrorException ex)
        {
            return (null, ["Invalid bulk query: " + ex.Description]);
        }
        var operation = ShopifySchema.SelectOperation(document, operationName: null);
        if (operation is null)
            return (null, ["Invalid bulk query: the document must hold exactly one operation."]);
        if (operation.Operation != OperationType.Query)
            return (null, ["Invalid operation type. Only `query` operations are supported."]);
        var invalid = ShopifySchema.ValidateParsed(document, Inputs.Empty, operationName: null);
        if (invalid.Count > 0)
            return (null, invalid.Select(e => "Invalid bulk query: " + AdminApiEndpoints.ShopifyErrorInfoProvider.Translate(e).Message).ToList());

        var errors = new Analysis(document).Run(operation);
        return errors.Count > 0 ? (null, errors) : (document, []);
    }

    /// <summary>The root field of an accepted document.</summary>
    public static GraphQLField RootField(GraphQLDocument document) =>
        new Analysis(document).Fields(ShopifySchema.SelectOperation(document, null)!.SelectionSet, ShopifySchema.Schema.Query).First().Field;

    internal static bool IsConnection(IGraphType named) =>
        named is IObjectGraphType && named.Name.EndsWith("Connection", StringComparison.Ordinal);

    private sealed class Analysis(GraphQLDocument document)
    {
        private readonly ISchema _schema = ShopifySchema.Schema;
        private int _connections;
        private int _maxDepth;
        private bool _connectionInList;
        private readonly List<string> _readThroughNodes = [];
        private readonly List<string> _withoutParentId = [];

        public List<string> Run(GraphQLOperationDefinition operation)
        {
            var roots = Fields(operation.SelectionSet, _schema.Query).ToList();
            foreach (var (field, parent) in roots)
                Walk(field, parent, depth: 0, inList: false);

            var topLevelNode = roots.Any(r => r.Field.Name.StringValue == "node");
            var errors = new List<string>();
            if (_readThroughNodes.Count > 0)
                errors.Add($"All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: '{_readThroughNodes[0]} {{ edges {{ node {{'. " +
                    $"Selecting via 'nodes' is not supported. Invalid connection fields: {string.Join(", ", _readThroughNodes.Select(n => "'" + n + "'"))}.");
            if (topLevelNode)
                errors.Add("Bulk queries cannot contain a top level `node` field.");
            if (roots.Count > 1)
                errors.Add("Bulk queries must contain exactly one top-level field.");
            if (_maxDepth > MaxConnectionDepth)
                errors.Add($"Bulk queries cannot contain connections with a nesting depth greater than {MaxConnectionDepth}.");
            if (_connections > MaxConnections)
                errors.Add($"Bulk queries cannot contain more than {MaxConnections} connections.");
            if (_withoutParentId.Count > 0)
                errors.Add("The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. " +
                    $"Connection fields without 'id': {string.Join(", ", _withoutParentId)}.");
            if (_connectionInList)
                errors.Add("Queries that contain a connection field within a list field are not currently supported.");
            // Shopify adds this one alone, or beside the top-level node error only.
            if (_connections == 0 && (errors.Count == 0 || (topLevelNode && errors.Count == 1)))
                errors.Add("Bulk queries must contain at least one connection.");
            return errors;
        }

        private void Walk(GraphQLField field, IGraphType parent, int depth, bool inList)
        {
            if (FieldOf(parent, field.Name.StringValue) is not { ResolvedType: { } type })
                return;
            var named = type.GetNamedType();
            if (!IsConnection(named))
            {
                var list = inList || (type is NonNullGraphType nonNull ? nonNull.ResolvedType : type) is ListGraphType;
                foreach (var (child, childParent) in Fields(field.SelectionSet, named))
                    Walk(child, childParent, depth, list);
                return;
            }

            _connections++;
            _maxDepth = Math.Max(_maxDepth, depth + 1);
            _connectionInList |= inList;
            var name = field.Name.StringValue;
            foreach (var (node, nodeType) in NodeSelections(field, named))
            {
                if (ContainsConnection(node.SelectionSet, nodeType) && !SelectsId(node.SelectionSet, nodeType) && !_withoutParentId.Contains(name))
                    _withoutParentId.Add(name);
                foreach (var (child, childParent) in Fields(node.SelectionSet, nodeType))
                    Walk(child, childParent, depth + 1, inList: false);
            }
        }

        /// <summary>The <c>edges { node }</c> and <c>nodes</c> selections of a connection field, with the node type.</summary>
        private List<(GraphQLField Node, IGraphType NodeType)> NodeSelections(GraphQLField connection, IGraphType connectionType)
        {
            var nodes = new List<(GraphQLField, IGraphType)>();
            foreach (var (child, parent) in Fields(connection.SelectionSet, connectionType))
            {
                var childType = FieldOf(parent, child.Name.StringValue)?.ResolvedType?.GetNamedType();
                if (childType is null)
                    continue;
                if (child.Name.StringValue == "edges")
                {
                    foreach (var (edgeChild, edgeParent) in Fields(child.SelectionSet, childType))
                        if (edgeChild.Name.StringValue == "node" && FieldOf(edgeParent, "node")?.ResolvedType?.GetNamedType() is { } nodeType)
                            nodes.Add((edgeChild, nodeType));
                }
                else if (child.Name.StringValue == "nodes")
                {
                    if (!_readThroughNodes.Contains(connection.Name.StringValue))
                        _readThroughNodes.Add(connection.Name.StringValue);
                    nodes.Add((child, childType));
                }
            }
            return nodes;
        }

        private bool ContainsConnection(GraphQLSelectionSet? selectionSet, IGraphType parent) =>
            Fields(selectionSet, parent).Any(f => FieldOf(f.Parent, f.Field.Name.StringValue)?.ResolvedType?.GetNamedType() is { } named
                && (IsConnection(named) || ContainsConnection(f.Field.SelectionSet, named)));

        private bool SelectsId(GraphQLSelectionSet? selectionSet, IGraphType parent) =>
            Fields(selectionSet, parent).Any(f => f.Field.Name.StringValue == "id" && f.Field.Alias is null);

        /// <summary>The fields a selection set asks for, fragments flattened, each with the type it is selected on.</summary>
        public IEnumerable<(GraphQLField Field, IGraphType Parent)> Fields(GraphQLSelectionSet? selectionSet, IGraphType parent)
        {
            if (selectionSet is null)
                yield break;
            foreach (var selection in selectionSet.Selections)
            {
                switch (selection)
                {
                    case GraphQLField field:
                        yield return (field, parent);
                        break;
                    case GraphQLInlineFragment inline:
                        foreach (var f in Fields(inline.SelectionSet, TypeOf(inline.TypeCondition) ?? parent))
                            yield return f;
                        break;
                    case GraphQLFragmentSpread spread:
                        var definition = document.Definitions.OfType<GraphQLFragmentDefinition>()
                            .FirstOrDefault(d => d.FragmentName.Name == spread.FragmentName.Name);
                        if (definition is not null)
                            foreach (var f in Fields(definition.SelectionSet, TypeOf(definition.TypeCondition) ?? parent))
                                yield return f;
                        break;
                }
            }
        }

        private IGraphType? TypeOf(GraphQLTypeCondition? condition) =>
            condition is null ? null : _schema.AllTypes[condition.Type.Name.StringValue];

        private static FieldType? FieldOf(IGraphType parent, string name) =>
            parent is IComplexGraphType complex ? complex.GetField(name) : null;
    }
}
