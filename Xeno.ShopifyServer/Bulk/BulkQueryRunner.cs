using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using GraphQL;
using GraphQL.Execution;
using GraphQL.Types;
using GraphQL.Validation;

namespace Xeno.ShopifyServer;

/// <summary>
/// Paging state of one bulk query, carried by the request context of each page it executes: the top-level
/// connection is filtered and sorted once, on the first page, then answered a page at a time; nested
/// connections answer every item (bulk queries ignore <c>first</c> and <c>after</c>).
/// </summary>
internal sealed class BulkExecution(int pageSize)
{
    public int PageSize { get; } = pageSize;
    public int PageStart { get; set; }

    /// <summary>The top-level connection's items, in order, as they stood when the first page ran.</summary>
    public List<object>? RootItems { get; set; }
}

/// <summary>
/// Executes a bulk query with the same resolvers as the API, a page of top-level objects at a time, and streams
/// the result to a JSONL file as Shopify writes it: one line per node of the top-level connection; every node of
/// a nested connection on a line of its own, carrying its parent's id as <c>__parentId</c>; lists and plain
/// objects inline; money, GIDs and UnsignedInt64 as strings; nulls kept; non-ASCII as UTF-8; every "/" as "\/".
/// </summary>
internal static class BulkQueryRunner
{
    // Serial: the resolvers are synchronous, and the parallel strategy's task per field costs more than it saves.
    private static readonly DocumentExecuter Executer = new(new GraphQLDocumentBuilder(), new DocumentValidator(),
        new DefaultExecutionStrategySelector([new ExecutionStrategyRegistration(SerialExecutionStrategy.Instance, GraphQLParser.AST.OperationType.Query)]),
        []);

    private static readonly JsonSerializerOptions ValueOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes the file of <paramref name="run"/>; stops after <paramref name="partialFraction"/> of the top-level
    /// objects when given (the prefix a failed operation leaves).
    /// </summary>
    public static async Task<BulkWriteResult> WriteAsync(BulkOperationRun run, Model.Shop shop, int pageSize, double? partialFraction, CancellationToken cancellationToken)
    {
        var execution = new BulkExecution(Math.Max(1, pageSize));
        await using var file = new FileStream(run.FilePath, FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete, 1 << 16);
        var output = new JsonlOutput(file, run.GroupObjects);
        var lines = new LineBuilder();
        long? rootLimit = null;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await ExecutePageAsync(run, shop, execution, cancellationToken);
            var total = execution.RootItems?.Count ?? 0;
            rootLimit ??= partialFraction is { } fraction ? (long)Math.Floor(total * fraction) : null;
            var roots = lines.Lines(page);
            if (!output.Write(roots, rootLimit))
                break;
            run.Progress(output.Objects, output.Roots);
            execution.PageStart += execution.PageSize;
        } while (execution.PageStart < (execution.RootItems?.Count ?? 0));
        if (rootLimit is null)
            output.Finish();
        await file.FlushAsync(cancellationToken);
        return new BulkWriteResult(output.Objects, output.Roots, file.Length);
    }

    private static async Task<ObjectExecutionNode?> ExecutePageAsync(BulkOperationRun run, Model.Shop shop, BulkExecution execution, CancellationToken cancellationToken)
    {
        ExecutionResult result;
        // One page at a time under the shop's lock: a page sees a consistent shop, and API requests and changes
        // interleave between pages (Shopify's snapshot is no stricter).
        await shop.Gate.WaitAsync(cancellationToken);
        try
        {
            result = await Executer.ExecuteAsync(new ExecutionOptions
            {
                Schema = ShopifySchema.Schema,
                Document = run.Document,
                Variables = Inputs.Empty,
                UserContext = new ShopifyRequestContext(shop, run.App) { Bulk = execution },
                // Validated when the operation was created.
                ValidationRules = Array.Empty<IValidationRule>(),
                CancellationToken = cancellationToken,
                ThrowOnUnhandledException = false,
            });
        }
        finally
        {
            shop.Gate.Release();
        }
        if (result.Errors is { Count: > 0 } errors)
            throw new BulkQueryFailedException(errors[0].Message);
        return (result.Data as ObjectExecutionNode)?.SubFields?.FirstOrDefault() as ObjectExecutionNode;
    }

    /// <summary>One line's JSON and the lines of its nested connections' nodes.</summary>
    private sealed record Line(byte[] Json, List<Line> Children);

    /// <summary>Turns an executed page into lines, reusing one buffer for every line's JSON.</summary>
    private sealed class LineBuilder
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(4096);
        private readonly Utf8JsonWriter _writer;

        public LineBuilder() => _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });

        public List<Line> Lines(ObjectExecutionNode? rootConnection) =>
            rootConnection is null ? [] : NodesOf(rootConnection).Select(node => LineOf(node, parentId: null)).ToList();

        private Line LineOf(ObjectExecutionNode node, string? parentId)
        {
            var nested = new List<ObjectExecutionNode>();
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _writer.WriteStartObject();
            WriteFields(node, nested);
            if (parentId is not null)
                _writer.WriteString("__parentId", parentId);
            _writer.WriteEndObject();
            _writer.Flush();
            var line = new Line(WebhookBodies.EscapeSlashes(_buffer.WrittenSpan), []);
            var id = IdOf(node);
            foreach (var connection in nested)
                foreach (var child in NodesOf(connection))
                    line.Children.Add(LineOf(child, id));
            return line;
        }

        /// <summary>Writes an object's fields as the API would, except nested connections, which become lines of their own.</summary>
        private void WriteFields(ObjectExecutionNode node, List<ObjectExecutionNode> nested)
        {
            foreach (var field in node.SubFields ?? [])
            {
                if (field is ObjectExecutionNode connection && IsConnectionField(field))
                {
                    nested.Add(connection);
                    continue;
                }
                _writer.WritePropertyName(field.Name!);
                WriteValue(field, nested);
            }
        }

        /// <summary>The same JSON as GraphQL.NET's serializer writes for the API (ExecutionResultJsonConverter).</summary>
        private void WriteValue(ExecutionNode node, List<ObjectExecutionNode> nested)
        {
            switch (node)
            {
                case ValueExecutionNode value:
                    WriteScalar(value.ToValue());
                    break;
                case ObjectExecutionNode { SubFields: null }:
                    _writer.WriteNullValue();
                    break;
                case ObjectExecutionNode obj:
                    _writer.WriteStartObject();
                    WriteFields(obj, nested);
                    _writer.WriteEndObject();
                    break;
                case ArrayExecutionNode { Items: null } array:
                    JsonSerializer.Serialize(_writer, array.SerializedResult, ValueOptions);
                    break;
                case ArrayExecutionNode array:
                    _writer.WriteStartArray();
                    foreach (var item in array.Items)
                        WriteValue(item, nested);
                    _writer.WriteEndArray();
                    break;
                case NullExecutionNode:
                    _writer.WriteNullValue();
                    break;
                default:
                    JsonSerializer.Serialize(_writer, node.ToValue(), ValueOptions);
                    break;
            }
        }

        private void WriteScalar(object? value)
        {
            switch (value)
            {
                case null: _writer.WriteNullValue(); break;
                case string text: _writer.WriteStringValue(text); break;
                case bool flag: _writer.WriteBooleanValue(flag); break;
                case int number: _writer.WriteNumberValue(number); break;
                case long number: _writer.WriteNumberValue(number); break;
                case double number: _writer.WriteNumberValue(number); break;
                case decimal number: _writer.WriteNumberValue(number); break;
                default: JsonSerializer.Serialize(_writer, value, value.GetType(), ValueOptions); break;
            }
        }

        private static bool IsConnectionField(ExecutionNode node) =>
            node.IndexInParentNode is null && node.FieldDefinition?.ResolvedType?.GetNamedType() is { } named && BulkQueryRules.IsConnection(named);

        /// <summary>The nodes of an executed connection: <c>edges { node }</c>, or <c>nodes</c>.</summary>
        private static IEnumerable<ObjectExecutionNode> NodesOf(ObjectExecutionNode connection)
        {
            foreach (var field in connection.SubFields ?? [])
            {
                switch (field.Field.Name.StringValue)
                {
                    case "edges" when field is ArrayExecutionNode { Items: { } edges }:
                        foreach (var edge in edges.OfType<ObjectExecutionNode>())
                            foreach (var node in (edge.SubFields ?? []).OfType<ObjectExecutionNode>())
                                if (node.Field.Name.StringValue == "node" && node.SubFields is not null)
                                    yield return node;
                        break;
                    case "nodes" when field is ArrayExecutionNode { Items: { } nodes }:
                        foreach (var node in nodes.OfType<ObjectExecutionNode>())
                            if (node.SubFields is not null)
                                yield return node;
                        break;
                }
            }
        }

        /// <summary>The node's unaliased <c>id</c>: the rules make every parent of a nested connection select it.</summary>
        private static string? IdOf(ObjectExecutionNode node) =>
            (node.SubFields ?? []).FirstOrDefault(f => f.Field.Name.StringValue == "id" && f.Field.Alias is null)?.ToValue() as string;
    }

    /// <summary>
    /// Writes lines in Shopify's order. Grouped: each parent, then its children (depth first). Ungrouped, as
    /// Shopify's parallel workers write: a page's parents, then the previous page's children, level by level, so
    /// children always follow their parent but rarely directly.
    /// </summary>
    private sealed class JsonlOutput(Stream file, bool grouped)
    {
        private List<Line> _waitingChildren = [];

        public long Objects { get; private set; }
        public long Roots { get; private set; }

        /// <summary>Writes a page's lines; false once <paramref name="rootLimit"/> top-level lines are out (nothing more is written).</summary>
        public bool Write(List<Line> roots, long? rootLimit)
        {
            foreach (var root in roots)
            {
                if (Roots >= rootLimit)
                    return false;
                WriteLine(root, isRoot: true);
                if (grouped)
                    WriteDepthFirst(root.Children);
            }
            if (!grouped)
            {
                WriteByLevel(_waitingChildren);
                _waitingChildren = roots.SelectMany(r => r.Children).ToList();
            }
            return !(Roots >= rootLimit);
        }

        public void Finish()
        {
            WriteByLevel(_waitingChildren);
            _waitingChildren = [];
        }

        private void WriteDepthFirst(List<Line> lines)
        {
            foreach (var line in lines)
            {
                WriteLine(line, isRoot: false);
                WriteDepthFirst(line.Children);
            }
        }

        private void WriteByLevel(List<Line> lines)
        {
            while (lines.Count > 0)
            {
                foreach (var line in lines)
                    WriteLine(line, isRoot: false);
                lines = lines.SelectMany(l => l.Children).ToList();
            }
        }

        private void WriteLine(Line line, bool isRoot)
        {
            file.Write(line.Json);
            file.WriteByte((byte)'\n');
            Objects++;
            if (isRoot)
                Roots++;
        }
    }
}
