using System.IO.Compression;
using System.Text.RegularExpressions;
using GraphQL;
using GraphQL.Types;
using GraphQL.Utilities;
using GraphQL.Validation;
using GraphQLParser.AST;
using GraphQLParser.Exceptions;

namespace Xeno.ShopifyServer;

/// <summary>
/// The real Shopify Admin GraphQL schema (API version 2026-10), loaded once from the embedded SDL, with
/// resolvers that answer from <see cref="ShopifyServerState"/>. Validation runs GraphQL.NET's
/// standard rules, which name any field, argument or type Shopify would refuse.
/// </summary>
public static partial class ShopifySchema
{
    public const string ApiVersion = "2026-10";
    private const string ResourceName = "admin-2026-10.graphql.gz";

    private static readonly Lazy<ISchema> LazySchema = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly DocumentValidator Validator = new();

    /// <summary>The initialized schema; the first access parses the SDL (about a second).</summary>
    public static ISchema Schema => LazySchema.Value;

    /// <summary>The SDL text as Shopify printed it.</summary>
    public static string Sdl()
    {
        using var stream = typeof(ShopifySchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing.");
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Validates <paramref name="document"/> against the schema. Returns the error messages (empty when
    /// Shopify would accept the document): syntax errors, unknown fields/arguments/types, wrong
    /// variable types, a <c>first</c>/<c>last</c> above 250 and a requested cost above 1,000.
    /// </summary>
    public static IReadOnlyList<string> Validate(string document, IReadOnlyDictionary<string, object?>? variables = null, string? operationName = null)
    {
        GraphQLDocument parsed;
        try
        {
            parsed = GraphQLParser.Parser.Parse(document);
        }
        catch (GraphQLSyntaxErrorException ex)
        {
            return [ex.Message];
        }
        var inputs = variables is null ? Inputs.Empty : new Inputs(variables.ToDictionary(kv => kv.Key, kv => kv.Value));
        var errors = ValidateParsed(parsed, inputs, operationName);
        if (errors.Count > 0)
            return errors.Select(e => e.Message).ToList();
        var operation = SelectOperation(parsed, operationName);
        if (operation is null)
            return ["An operation name is required when the document holds several operations."];
        var cost = QueryCost.Compute(Schema, parsed, operation, variables);
        var messages = new List<string>(cost.PageSizeErrors);
        if (cost.Requested > QueryCost.MaxCost)
            messages.Add(QueryCost.MaxCostMessage(cost.Requested));
        return messages;
    }

    internal static IReadOnlyList<ValidationError> ValidateParsed(GraphQLDocument document, Inputs variables, string? operationName)
    {
        var operation = SelectOperation(document, operationName);
        if (operation is null)
            return [new ValidationError("An operation name is required when the document holds several operations.")];
        var result = Validator.ValidateAsync(new ValidationOptions
        {
            Schema = Schema,
            Document = document,
            Operation = operation,
            Rules = DocumentValidator.CoreRules,
            Variables = variables,
            Extensions = Inputs.Empty,
            UserContext = new Dictionary<string, object?>(),
            RequestServices = null,
        }).GetAwaiter().GetResult();
        return result.IsValid ? [] : result.Errors.OfType<ValidationError>().ToList();
    }

    internal static GraphQLOperationDefinition? SelectOperation(GraphQLDocument document, string? operationName)
    {
        var operations = document.Definitions.OfType<GraphQLOperationDefinition>().ToList();
        if (string.IsNullOrEmpty(operationName))
            return operations.Count == 1 ? operations[0] : null;
        return operations.Find(o => o.Name?.Value == operationName);
    }

    private static ISchema Load()
    {
        var sdl = Sdl();
        var scalars = ScalarDefinition().Matches(sdl).Select(m => m.Groups[1].Value).ToList();
        var builder = new ShopifySchemaBuilder(scalars);
        var schema = builder.Build(sdl);
        schema.Initialize();
        return schema;
    }

    [GeneratedRegex(@"^scalar (\w+)", RegexOptions.Multiline)]
    private static partial Regex ScalarDefinition();

    /// <summary>
    /// Hooks GraphQL.NET's SDL reader: registers Shopify's custom scalars as pass-through types (the SDL
    /// only names them), gives each object type an IsTypeOf check (the schema has many interfaces and
    /// unions) and attaches the state-backed resolvers to every field.
    /// </summary>
    private sealed class ShopifySchemaBuilder(IReadOnlyList<string> scalarNames) : SchemaBuilder
    {
        protected override void PreConfigure(Schema schema)
        {
            base.PreConfigure(schema);
            foreach (var name in scalarNames)
                schema.RegisterType(new ShopifyScalar(name));
        }

        protected override IObjectGraphType ToObjectGraphType(GraphQLObjectTypeDefinition astType, bool isExtensionType = false)
        {
            var type = base.ToObjectGraphType(astType, isExtensionType);
            var name = type.Name;
            type.IsTypeOf = source => GraphResolvers.TypeNameOf(source) == name;
            foreach (var field in type.Fields)
                field.Resolver = GraphResolvers.For(name, field.Name);
            return type;
        }
    }
}
