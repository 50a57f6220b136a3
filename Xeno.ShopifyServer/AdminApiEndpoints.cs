using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GraphQL;
using GraphQL.Execution;
using GraphQL.SystemTextJson;
using GraphQL.Transport;
using GraphQL.Validation;
using GraphQLParser.AST;
using GraphQLParser.Exceptions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

public static class AdminApiEndpoints
{
    public const string InvalidTokenBody = """{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}""";
    private const string RateLimitDocumentation = "https://shopify.dev/api/usage/rate-limits";

    private static readonly GraphQLSerializer Serializer = new(new ShopifyErrorInfoProvider());
    private static readonly DocumentExecuter Executer = new();

    /// <summary>
    /// Maps <c>POST {prefix}/{shop}/admin/api/{version}/graphql.json</c>, answering like Shopify's Admin API
    /// for the shops of the <see cref="ShopifyServerState"/> registered in DI, and beside it the install
    /// endpoints <c>GET|POST {prefix}/{shop}/admin/oauth/authorize</c> and <c>POST {prefix}/{shop}/admin/oauth/access_token</c>,
    /// and the bulk operation results, <c>GET|HEAD {prefix}/bulk-results/{token}.jsonl</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapShopifyAdminApi(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        prefix = prefix.TrimEnd('/');
        endpoints.MapPost(prefix + "/{shop}/admin/api/{version}/graphql.json",
            (HttpContext http, string shop, ShopifyServerState state) => HandleAsync(http, shop, state, prefix));
        endpoints.MapMethods(prefix + BulkResultDownloads.Route, [HttpMethods.Get, HttpMethods.Head],
            (HttpContext http, string file, ShopifyServerState state) => BulkResultDownloads.HandleAsync(http, file, state));
        endpoints.MapShopifyOAuth(prefix);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext http, string domain, ShopifyServerState state, string prefix)
    {
        var shop = state.FindShop(domain);
        if (shop is null)
        {
            await WriteAsync(http, StatusCodes.Status404NotFound, """{"errors":"Not Found"}""");
            return;
        }
        var app = state.Authenticate(domain, http.Request.Headers["X-Shopify-Access-Token"].FirstOrDefault());
        if (app is null)
        {
            await WriteAsync(http, StatusCodes.Status401Unauthorized, InvalidTokenBody);
            return;
        }

        if (shop.Faults.Latency > TimeSpan.Zero)
            await Task.Delay(shop.Faults.Latency, http.RequestAborted);
        var fault = shop.Faults.Next();
        switch (fault)
        {
            case ShopifyFault.Http401:
                await WriteAsync(http, StatusCodes.Status401Unauthorized, InvalidTokenBody);
                return;
            case ShopifyFault.Http500:
                await WriteAsync(http, 500, """{"errors":"Internal Server Error"}""");
                return;
            case ShopifyFault.Http502:
                await WriteAsync(http, 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html");
                return;
            case ShopifyFault.Http503:
                await WriteAsync(http, 503, """{"errors":"Service Unavailable"}""");
                return;
            case ShopifyFault.Http429:
                http.Response.Headers.RetryAfter = shop.Faults.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await WriteAsync(http, 429, """{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}""");
                return;
        }

        var body = await ProduceBodyAsync(http, shop, app, fault == ShopifyFault.Throttled, prefix);
        if (fault == ShopifyFault.DropConnection)
        {
            // Announce the whole body, send half, then cut the connection: the client sees a truncated response.
            http.Response.StatusCode = 200;
            http.Response.ContentType = "application/json; charset=utf-8";
            http.Response.ContentLength = body.Length;
            await http.Response.Body.WriteAsync(body.AsMemory(0, body.Length / 2), http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
            http.Abort();
            return;
        }
        await WriteAsync(http, 200, body);
    }

    private static async Task<byte[]> ProduceBodyAsync(HttpContext http, Shop shop, ShopifyApp app, bool forceThrottle, string prefix)
    {
        GraphQLRequest? request;
        try
        {
            request = await Serializer.ReadAsync<GraphQLRequest>(http.Request.Body, http.RequestAborted);
        }
        catch (JsonException)
        {
            request = null;
        }
        if (request?.Query is not { Length: > 0 } query)
            return Encoding.UTF8.GetBytes("""{"errors":{"query":"Required parameter missing or invalid"}}""");

        GraphQLDocument document;
        try
        {
            document = GraphQLParser.Parser.Parse(query);
        }
        catch (GraphQLSyntaxErrorException ex)
        {
            return ErrorsOnly(new ExecutionError(ex.Description) { Code = "parseError" }, ex.Location);
        }

        var variables = request.Variables ?? Inputs.Empty;
        var validationErrors = ShopifySchema.ValidateParsed(document, variables, request.OperationName);
        if (validationErrors.Count > 0)
        {
            var result = new ExecutionResult { Executed = false };
            foreach (var error in validationErrors)
                result.AddError(error);
            return Serializer.SerializeToBytes(result);
        }

        var operation = ShopifySchema.SelectOperation(document, request.OperationName)!;
        var cost = QueryCost.Compute(ShopifySchema.Schema, document, operation, variables);
        if (cost.Requested > QueryCost.MaxCost)
            return MaxCostExceeded(cost.Requested);
        if (cost.PageSizeErrors.Count > 0)
            return ErrorsOnly(new ExecutionError(cost.PageSizeErrors[0]) { Code = "BAD_REQUEST" }, null);

        if (forceThrottle || !shop.RateLimit.TryTake(cost.Requested, out var status))
            return Throttled(cost.Requested, shop.RateLimit.Status());

        var rootFields = operation.SelectionSet.Selections.OfType<GraphQLField>().Select(f => f.Name.StringValue).ToList();
        shop.Requests.Count(rootFields);
        var context = new ShopifyRequestContext(shop, app) { Origin = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{prefix}" };
        ExecutionResult executed;
        await shop.Gate.WaitAsync(http.RequestAborted);
        try
        {
            executed = await Executer.ExecuteAsync(new ExecutionOptions
            {
                Schema = ShopifySchema.Schema,
                Document = document,
                Query = query,
                OperationName = request.OperationName,
                Variables = variables,
                UserContext = context,
                RequestServices = http.RequestServices,
                CancellationToken = http.RequestAborted,
                ThrowOnUnhandledException = false,
            });
        }
        finally
        {
            shop.Gate.Release();
        }

        var actual = cost.Actual(context.RootPageSizes);
        status = shop.RateLimit.GiveBack(cost.Requested - actual);
        executed.Extensions ??= new Dictionary<string, object?>();
        executed.Extensions["cost"] = new Dictionary<string, object?>
        {
            ["requestedQueryCost"] = cost.Requested,
            ["actualQueryCost"] = actual,
            ["throttleStatus"] = ThrottleStatusObject(status),
        };
        return Serializer.SerializeToBytes(executed);
    }

    private static Dictionary<string, object?> ThrottleStatusObject(ThrottleStatus status) => new()
    {
        ["maximumAvailable"] = status.MaximumAvailable,
        ["currentlyAvailable"] = (long)status.CurrentlyAvailable,
        ["restoreRate"] = status.RestoreRate,
    };

    /// <summary>Shaped like <c>graphql-error-throttled.json</c>: errors, cost extensions, no data.</summary>
    private static byte[] Throttled(int requested, ThrottleStatus status)
    {
        var json = new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject
            {
                ["message"] = "Throttled",
                ["extensions"] = new JsonObject { ["code"] = "THROTTLED", ["documentation"] = RateLimitDocumentation },
            }),
            ["extensions"] = new JsonObject
            {
                ["cost"] = new JsonObject
                {
                    ["requestedQueryCost"] = requested,
                    ["actualQueryCost"] = null,
                    ["throttleStatus"] = new JsonObject
                    {
                        ["maximumAvailable"] = status.MaximumAvailable,
                        ["currentlyAvailable"] = (long)status.CurrentlyAvailable,
                        ["restoreRate"] = status.RestoreRate,
                    },
                },
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(json);
    }

    /// <summary>Shaped like <c>graphql-error-max-cost-exceeded.json</c>.</summary>
    private static byte[] MaxCostExceeded(int cost)
    {
        var json = new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject
            {
                ["message"] = QueryCost.MaxCostMessage(cost),
                ["extensions"] = new JsonObject
                {
                    ["code"] = "MAX_COST_EXCEEDED",
                    ["cost"] = cost,
                    ["maxCost"] = QueryCost.MaxCost,
                    ["documentation"] = RateLimitDocumentation,
                },
            }),
        };
        return JsonSerializer.SerializeToUtf8Bytes(json);
    }

    private static byte[] ErrorsOnly(ExecutionError error, GraphQLParser.Location? location)
    {
        if (location is { } l)
            error.AddLocation(new GraphQLParser.Location(l.Line, l.Column));
        var result = new ExecutionResult { Executed = false };
        result.AddError(error);
        return Serializer.SerializeToBytes(result);
    }

    private static Task WriteAsync(HttpContext http, int status, string body, string contentType = "application/json; charset=utf-8") =>
        WriteAsync(http, status, Encoding.UTF8.GetBytes(body), contentType);

    private static async Task WriteAsync(HttpContext http, int status, byte[] body, string contentType = "application/json; charset=utf-8")
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }

    private static byte[] SerializeToBytes(this GraphQLSerializer serializer, ExecutionResult result) =>
        Encoding.UTF8.GetBytes(serializer.Serialize(result));

    /// <summary>
    /// Writes errors as Shopify (graphql-ruby) does: <c>extensions.code</c> in its camelCase vocabulary
    /// for validation failures, Shopify's upper-case codes for execution errors, nothing else.
    /// </summary>
    internal sealed class ShopifyErrorInfoProvider : IErrorInfoProvider
    {
        public ErrorInfo GetInfo(ExecutionError executionError)
        {
            var (message, code) = executionError switch
            {
                ValidationError validation => Translate(validation),
                _ => (executionError.Message, executionError.Code ?? "INTERNAL_SERVER_ERROR"),
            };
            return new ErrorInfo { Message = message, Extensions = new Dictionary<string, object?> { ["code"] = code } };
        }

        internal static (string Message, string Code) Translate(ValidationError error)
        {
            var message = error.Message;
            var field = System.Text.RegularExpressions.Regex.Match(message, "^Cannot query field '([^']+)' on type '([^']+)'");
            if (field.Success)
                return ($"Field '{field.Groups[1].Value}' doesn't exist on type '{field.Groups[2].Value}'", "undefinedField");
            var argument = System.Text.RegularExpressions.Regex.Match(message, "^Unknown argument '([^']+)' on field '([^']+)'");
            if (argument.Success)
                return ($"Field '{argument.Groups[2].Value.Split('.').Last()}' doesn't accept argument '{argument.Groups[1].Value}'", "argumentNotAccepted");
            var code = error.Code switch
            {
                "KNOWN_TYPE_NAMES" => "undefinedType",
                "PROVIDED_NON_NULL_ARGUMENTS" => "missingRequiredArguments",
                "ARGUMENTS_OF_CORRECT_TYPE" => "argumentLiteralsIncompatible",
                "SCALAR_LEAFS" => "selectionMismatch",
                "NO_UNDEFINED_VARIABLES" => "variableNotDefined",
                "NO_UNUSED_VARIABLES" => "variableNotUsed",
                "VARIABLES_IN_ALLOWED_POSITION" => "variableMismatch",
                "INPUT_FIELDS_ON_CORRECT_TYPE" or "VALUES_OF_CORRECT_TYPE" or "INVALID_VALUE" => "argumentLiteralsIncompatible",
                var other => other ?? "GRAPHQL_VALIDATION_FAILED",
            };
            return (message, code);
        }
    }
}
