using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Xeno.Web.Infrastructure.Auth;

namespace Xeno.Web.Infrastructure.Web;

/// <summary>
/// What /openapi/v1.json says of the JSON API beyond what ASP.NET Core can infer. Every handler returns IResult, so the
/// framework sees none of its answers: each endpoint declares them here, in words a client can act on. What a filter or
/// a policy answers (401, 404 for someone else's store, 403 for a viewer) is declared where that filter is added, so an
/// endpoint cannot gain the filter without the document saying so.
/// </summary>
public static partial class ApiDescription
{
    /// <summary>The name of the bearer scheme under components.securitySchemes.</summary>
    public const string BearerScheme = "bearer";

    public const string ProblemJson = "application/problem+json";

    public static IServiceCollection AddXenoOpenApi(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        // Nested records (GetSummary.Response, QueueSync.Request) would all be "Response" or "Request", told apart by a
        // number: named after their use case instead, they say what they are.
        options.CreateSchemaReferenceId = type =>
            OpenApiOptions.CreateDefaultSchemaReferenceId(type) is { } id ? type.Type.DeclaringType?.Name + id : null;
        options.AddDocumentTransformer((document, _, _) =>
        {
            // The features' tags in the contract's order (docs/api.md), each with what it is about; readers list them so.
            document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Text })
                .Concat(document.Tags?.Where(t => Tags.All(known => known.Name != t.Name)) ?? []));
            document.Info.Title = "Xeno JSON API";
            document.Info.Description = "Every call but register and login needs `Authorization: Bearer <token>` (the token of register, " +
                "login or password). Errors are application/problem+json. The contract in words: docs/api.md.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "The token of POST /api/v1/auth/register, /login or /password, valid 60 minutes (expiresAt).",
            };
            return Task.CompletedTask;
        });
        // Xeno writes every number as a JSON number. ASP.NET Core's web defaults would also read one from a string, which
        // the document shows as "integer or string" with a pattern; no request of the API takes a number, so the schema
        // says what a client reads.
        options.AddSchemaTransformer((schema, _, _) =>
        {
            if (schema.Type is { } type && schema.Pattern is not null && type.HasFlag(JsonSchemaType.String)
                && (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number)))
            {
                schema.Type = type & ~JsonSchemaType.String;
                schema.Pattern = null;
            }
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            // From the endpoint's own authorization, not from a list: a call that needs the token cannot be described
            // as open, nor the other way round.
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
            }
            // A route parameter that only a filter reads ({storeId}: StoreAccessFilter) is not the handler's, and ASP.NET
            // Core leaves it out; a client must still fill it in.
            operation.Parameters ??= [];
            var position = 0;
            foreach (var name in RouteParameter().Matches(context.Description.RelativePath ?? "").Select(m => m.Groups[1].Value))
            {
                if (!operation.Parameters.Any(p => p.Name == name && p.In == ParameterLocation.Path))
                    operation.Parameters.Insert(position, new OpenApiParameter
                    {
                        Name = name, In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    });
                position++;
            }
            // Later metadata wins: an endpoint's own words over its group's.
            var texts = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var text in metadata.OfType<ParameterText>()) texts[text.Name] = text.Text;
            foreach (var parameter in operation.Parameters)
                if (parameter is OpenApiParameter { Name: { } name } described && texts.TryGetValue(name, out var description))
                    described.Description = description;
            // ASP.NET Core 10 writes each answer's reason phrase ("Not Found") whatever the metadata's description: the
            // words saying when it happens are put back here.
            var answers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var answer in metadata.OfType<IProducesResponseTypeMetadata>())
                if (answer.Description is { Length: > 0 } said) answers[answer.StatusCode.ToString(CultureInfo.InvariantCulture)] = said;
            foreach (var (status, response) in operation.Responses ?? [])
                if (response is OpenApiResponse concrete && answers.TryGetValue(status, out var said)) concrete.Description = said;
            return Task.CompletedTask;
        });
    });

    private static readonly (string Name, string Text)[] Tags =
    [
        ("Accounts", "An account is an email address and a password. Register, login and password each answer with a fresh bearer token."),
        ("Stores", "Each store is one Shopify shop and one tenant: only its members (owners and viewers) see it."),
        ("Sync", "Xeno keeps a store up to date with Shopify's webhooks and with syncs: full (everything) or incremental (what changed)."),
        ("Team", "A store's owners share it with other Xeno accounts, as owners or viewers."),
        ("Metrics", "The figures of one store, or of all the caller's stores side by side, as JSON or CSV. What each means: docs/metrics.md."),
    ];

    /// <summary>A route or query parameter's description, as endpoint metadata (read by the operation transformer).
    /// [Description] on an [AsParameters] record's parameter breaks the document in ASP.NET Core 10, hence this.</summary>
    public sealed record ParameterText(string Name, string Text);

    /// <summary>The operationId (also the endpoint's name) and a one-line summary.</summary>
    public static RouteHandlerBuilder Describe(this RouteHandlerBuilder endpoint, string operationId, string summary) =>
        endpoint.WithName(operationId).WithSummary(summary);

    public static TBuilder DescribeParameter<TBuilder>(this TBuilder builder, string name, string text) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ParameterText(name, text));

    public static TBuilder DescribeParameters<TBuilder>(this TBuilder builder, IReadOnlyDictionary<string, string> texts) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata([.. texts.Select(t => new ParameterText(t.Key, t.Value))]);

    /// <summary>A success with a body (JSON unless other content types are given).</summary>
    public static RouteHandlerBuilder Answers<TBody>(this RouteHandlerBuilder endpoint, int status, string description, params string[] contentTypes) =>
        endpoint.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(TBody), contentTypes.Length > 0 ? contentTypes : ["application/json"])
        {
            Description = description,
        });

    /// <summary>A success without a body (204).</summary>
    public static RouteHandlerBuilder AnswersNoContent(this RouteHandlerBuilder endpoint, string description) =>
        endpoint.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status204NoContent, typeof(void)) { Description = description });

    /// <summary>An error answered as problem+json, with when it happens.</summary>
    public static TBuilder AnswersProblem<TBuilder>(this TBuilder builder, int status, string description) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), [ProblemJson]) { Description = description });

    /// <summary>What ASP.NET Core answers, before the handler runs, for a JSON body it cannot read. The 400 is each
    /// endpoint's to describe, as its own checks answer 400 too.</summary>
    public static RouteHandlerBuilder AnswersNonJsonBody(this RouteHandlerBuilder endpoint) =>
        endpoint.AnswersProblem(StatusCodes.Status415UnsupportedMediaType, "The body's Content-Type is not application/json.");

    /// <summary>The JSON API's authorization: the bearer token of the Authorization header only (never the page cookie).</summary>
    public static TBuilder RequireApiToken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(AuthSetup.ApiPolicy)
            .AnswersProblem(StatusCodes.Status401Unauthorized,
                "No valid bearer token: none, malformed, expired, or revoked (by logout or a password change). WWW-Authenticate: Bearer.");

    [GeneratedRegex(@"\{\**([A-Za-z]+)(?::[^}]*)?\??\}")]
    private static partial Regex RouteParameter();
}
