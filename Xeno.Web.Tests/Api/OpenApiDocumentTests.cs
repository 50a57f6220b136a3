using System.IO.Pipelines;
using System.Reflection;
using System.Security.Claims;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Alba;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Xeno.Web.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Xeno.Web.Tests.Api;

/// <summary>
/// /openapi/v1.json is the reference people build clients from (issue 11, item 7). Every route under /api/v1 is read from
/// ASP.NET Core's endpoint data source and its handler's parameters, so a call added tomorrow is checked without anyone
/// listing it: it must be in the document with its parameters described, a success with a body (or an explicit 204), its
/// problem answers explained, and the bearer requirement exactly when it needs the token.
/// </summary>
[Collection(XenoCollection.Name)]
public sealed partial class OpenApiDocumentTests(XenoFixture fixture, ITestOutputHelper output)
{
    private sealed record ApiRoute(string Method, string Path, RouteEndpoint Endpoint)
    {
        public string Key => $"{Method} {Path}";
        public IReadOnlyList<string> RouteParameters => Endpoint.RoutePattern.Parameters.Select(p => p.Name).ToList();
        public bool NeedsToken => Endpoint.Metadata.GetMetadata<IAuthorizeData>() is not null && Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null;
    }

    /// <summary>Every route under /api/v1, one per HTTP method, with its path as OpenAPI writes it (no route constraints).</summary>
    private List<ApiRoute> ApiRoutes() => fixture.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints
        .OfType<RouteEndpoint>()
        .Where(e => ("/" + (e.RoutePattern.RawText ?? "").Trim('/')).StartsWith("/api/v1/", StringComparison.Ordinal))
        .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } methods ? methods : ["GET"])
            .Select(method => new ApiRoute(method, Constraint().Replace("/" + e.RoutePattern.RawText!.Trim('/'), "{$1}"), e)))
        .DistinctBy(r => r.Key)
        .OrderBy(r => r.Path, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)
        .ToList();

    [GeneratedRegex(@"\{\**([A-Za-z]+)(?::[^}]*)?\??\}")]
    private static partial Regex Constraint();

    private async Task<JsonObject> DocumentAsync()
    {
        var result = await fixture.Host.Scenario(s => { s.Get.Url("/openapi/v1.json"); s.StatusCodeShouldBeOk(); });
        return JsonNode.Parse(await result.ReadAsTextAsync())!.AsObject();
    }

    [Fact]
    public async Task every_api_route_is_in_the_openapi_document_with_its_parameters_answers_and_security()
    {
        var document = await DocumentAsync();
        var paths = document["paths"]!.AsObject();
        var routes = ApiRoutes();
        Assert.True(routes.Count >= 20, $"only {routes.Count} routes under /api/v1: is the data source the app's?");
        var problems = new List<string>();
        var operationIds = new HashSet<string>(StringComparer.Ordinal);

        foreach (var route in routes)
        {
            if (paths[route.Path]?[route.Method.ToLowerInvariant()] is not JsonObject operation)
            {
                problems.Add($"{route.Key}: not in the document");
                continue;
            }
            var (query, hasBody) = BoundByHandler(route);
            output.WriteLine($"{route.Key}: route {{{string.Join(", ", route.RouteParameters)}}}, query [{string.Join(", ", query)}]" +
                (hasBody ? ", body" : "") + (route.NeedsToken ? ", token" : ""));

            if (operation["summary"]?.GetValue<string>() is not { Length: > 0 }) problems.Add($"{route.Key}: no summary");
            if (operation["operationId"]?.GetValue<string>() is not { Length: > 0 } id) problems.Add($"{route.Key}: no operationId");
            else if (!operationIds.Add(id)) problems.Add($"{route.Key}: operationId {id} is used twice");

            // Parameters: every one the route or the handler takes, where it is, described.
            var declared = (operation["parameters"]?.AsArray() ?? []).Select(p => p!.AsObject()).ToList();
            foreach (var (name, where) in route.RouteParameters.Select(n => (n, "path")).Concat(query.Select(n => (n, "query"))))
            {
                var parameter = declared.FirstOrDefault(p => p["name"]?.GetValue<string>() == name && p["in"]?.GetValue<string>() == where);
                if (parameter is null) problems.Add($"{route.Key}: the {where} parameter {name} is not declared");
                else if (parameter["description"]?.GetValue<string>() is not { Length: > 0 }) problems.Add($"{route.Key}: the {where} parameter {name} has no description");
                else if (where == "path" && parameter["required"]?.GetValue<bool>() != true) problems.Add($"{route.Key}: the path parameter {name} is not required");
            }

            if (hasBody && Schema(operation["requestBody"]?["content"]?["application/json"]) is null)
                problems.Add($"{route.Key}: its JSON body has no schema");

            // Answers: a success with a body or an explicit 204, and the errors as problem+json, each said in words.
            var responses = operation["responses"]?.AsObject() ?? [];
            var statuses = responses.Select(r => (Status: int.Parse(r.Key), Response: r.Value!.AsObject())).ToList();
            if (!statuses.Any(r => r.Status is >= 200 and < 300 && (r.Status == 204 || r.Response["content"]?.AsObject().Any(c => Schema(c.Value) is not null) == true)))
                problems.Add($"{route.Key}: no 2xx answer with a schema, nor a 204");
            if (!statuses.Any(r => r.Status is >= 400 and < 500 && Schema(r.Response["content"]?["application/problem+json"]) is not null))
                problems.Add($"{route.Key}: no 4xx problem+json answer");
            foreach (var (status, response) in statuses)
            {
                if (response["description"]?.GetValue<string>() is not { } said || said == ReasonPhrases.GetReasonPhrase(status))
                    problems.Add($"{route.Key}: {status} does not say when it happens");
                if (status >= 400 && response["content"]?["application/problem+json"] is null)
                    problems.Add($"{route.Key}: {status} is not problem+json");
            }
            if (route.NeedsToken && !statuses.Any(r => r.Status == 401)) problems.Add($"{route.Key}: needs the token but declares no 401");

            // The bearer requirement exactly when the endpoint needs the token.
            var bearer = (operation["security"]?.AsArray() ?? []).Any(r => r?.AsObject().ContainsKey("bearer") == true);
            if (bearer != route.NeedsToken) problems.Add($"{route.Key}: " + (route.NeedsToken ? "needs the token but the document does not say so" : "is open but the document asks for a token"));
        }

        // Nothing but the JSON API, and nothing it no longer has.
        var keys = routes.Select(r => r.Key).ToHashSet();
        foreach (var (path, item) in paths)
            foreach (var method in item!.AsObject().Select(m => m.Key.ToUpperInvariant()))
                if (!keys.Contains($"{method} {path}")) problems.Add($"{method} {path}: in the document, but not an /api/v1 route");

        var scheme = document["components"]?["securitySchemes"]?["bearer"];
        if (scheme?["type"]?.GetValue<string>() != "http" || scheme["scheme"]?.GetValue<string>() != "bearer" || scheme["bearerFormat"]?.GetValue<string>() != "JWT")
            problems.Add("components.securitySchemes.bearer is not an http bearer JWT scheme: " + scheme?.ToJsonString());

        Assert.True(problems.Count == 0, string.Join("\n", problems));

        // Every $ref resolves, so a reader (api.html) can draw each schema.
        var schemas = document["components"]?["schemas"]?.AsObject() ?? [];
        var references = Regex.Matches(document.ToJsonString(), "\"\\$ref\":\"#/components/schemas/([^\"]+)\"").Select(m => m.Groups[1].Value).Distinct();
        Assert.All(references, r => Assert.True(schemas.ContainsKey(r), $"#/components/schemas/{r} is not in the document"));
    }

    [Fact]
    public async Task the_document_says_what_each_kind_of_call_answers_in_words()
    {
        var document = await DocumentAsync();
        var paths = document["paths"]!;
        var register = paths["/api/v1/auth/register"]!["post"]!;
        Assert.Equal("Register", register["operationId"]!.GetValue<string>());
        Assert.Null(register["security"]);
        Assert.Equal(new[] { "201", "400", "409", "415", "429" }, register["responses"]!.AsObject().Select(r => r.Key).Order());
        Assert.Contains("email", Properties(document, register["requestBody"]!["content"]!["application/json"]!["schema"]!));

        // What the store filters answer comes with them: 404 for any store call, 403 where only owners may.
        var delete = paths["/api/v1/stores/{storeId}"]!["delete"]!;
        Assert.Equal(new[] { "204", "401", "403", "404" }, delete["responses"]!.AsObject().Select(r => r.Key).Order());
        Assert.Contains("not one of the caller's", delete["responses"]!["404"]!["description"]!.GetValue<string>());

        // An endpoint's own words for a status win over its group's.
        var add = paths["/api/v1/stores/{storeId}/members"]!["post"]!;
        Assert.Contains("No Xeno account uses this email", add["responses"]!["404"]!["description"]!.GetValue<string>());
        Assert.Equal(new[] { "200", "201", "400", "401", "403", "404", "409", "415" }, add["responses"]!.AsObject().Select(r => r.Key).Order());

        // The sync's body is read by the handler, and optional.
        var sync = paths["/api/v1/stores/{storeId}/sync"]!["post"]!;
        Assert.NotEqual(true, sync["requestBody"]!["required"]?.GetValue<bool>());
        Assert.Contains("mode", Properties(document, sync["requestBody"]!["content"]!["application/json"]!["schema"]!));

        var remove = paths["/api/v1/stores/{storeId}/members/{userId}"]!["delete"]!;
        var userId = remove["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "userId")!;
        Assert.Equal("uuid", userId["schema"]!["format"]!.GetValue<string>());
    }

    [Fact]
    public async Task every_call_with_a_body_answers_the_415_and_400_it_declares_for_a_body_that_is_not_json()
    {
        var paths = (await DocumentAsync())["paths"]!.AsObject();
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        using var client = fixture.CreateClient();
        var tried = 0;
        foreach (var (path, item) in paths)
            foreach (var (method, operation) in item!.AsObject().Where(o => o.Value!["requestBody"] is not null))
            {
                var declared = operation!["responses"]!.AsObject().Select(r => r.Key).ToHashSet();
                Assert.True(declared.IsSupersetOf(["400", "415"]), $"{method} {path} takes a body but does not declare 400 and 415");
                foreach (var (contentType, body, status) in new[] { ("text/plain", "hello", 415), ("application/json", "{", 400) })
                {
                    using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), path.Replace("{storeId}", store.Id.ToString()))
                    {
                        Content = new StringContent(body, System.Text.Encoding.UTF8, contentType),
                    };
                    request.Headers.Authorization = new("Bearer", token);
                    using var response = await client.SendAsync(request);
                    Assert.True((int)response.StatusCode == status, $"{method} {path} with a {contentType} body {body}: {(int)response.StatusCode}, not {status}");
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                }
                tried++;
            }
        Assert.True(tried >= 6, $"only {tried} calls take a body");
    }

    private static IEnumerable<string> Properties(JsonObject document, JsonNode schema)
    {
        if (schema["$ref"]?.GetValue<string>() is { } reference)
            schema = document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!;
        return schema["properties"]!.AsObject().Select(p => p.Key);
    }

    /// <summary>A media type's schema, if it has one.</summary>
    private static JsonNode? Schema(JsonNode? mediaType) => mediaType?["schema"] is JsonObject { Count: > 0 } schema ? schema : null;

    /// <summary>The query parameters the handler binds (by [FromQuery], through [AsParameters], or a simple type named by no
    /// route parameter), and whether it reads a JSON body (a complex parameter, or a body it declares it reads itself).</summary>
    private (List<string> Query, bool Body) BoundByHandler(ApiRoute route)
    {
        var services = fixture.Host.Services.GetRequiredService<IServiceProviderIsService>();
        var query = new List<string>();
        var body = route.Endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is { RequestType: not null };
        var handler = route.Endpoint.Metadata.GetMetadata<MethodInfo>() ?? throw new InvalidOperationException($"{route.Key}: no handler method in its metadata");
        foreach (var parameter in handler.GetParameters()) Bind(parameter.ParameterType, parameter.Name!, parameter.GetCustomAttributes(true));
        return (query, body);

        void Bind(Type type, string name, object[] attributes)
        {
            if (attributes.OfType<AsParametersAttribute>().Any())
            {
                var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
                foreach (var member in constructor.GetParameters()) Bind(member.ParameterType, member.Name!, member.GetCustomAttributes(true));
                return;
            }
            if (attributes.OfType<IFromQueryMetadata>().FirstOrDefault() is { } fromQuery) { query.Add(fromQuery.Name ?? name); return; }
            if (attributes.OfType<IFromBodyMetadata>().Any()) { body = true; return; }
            if (attributes.Any(a => a is IFromRouteMetadata or IFromHeaderMetadata or IFromServiceMetadata or IFromFormMetadata)) return;
            if (IsContext(type) || services.IsService(type) || route.RouteParameters.Contains(name, StringComparer.OrdinalIgnoreCase)) return;
            if (IsSimple(Nullable.GetUnderlyingType(type) ?? type)) query.Add(name);
            else body = true;
        }
    }

    private static bool IsContext(Type type) =>
        type == typeof(HttpContext) || type == typeof(HttpRequest) || type == typeof(HttpResponse) || type == typeof(CancellationToken)
        || type == typeof(ClaimsPrincipal) || type == typeof(Stream) || type == typeof(PipeReader) || typeof(IFormFile).IsAssignableFrom(type)
        || type == typeof(IFormFileCollection);

    private static bool IsSimple(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(Guid) || type == typeof(DateTime)
        || type == typeof(DateTimeOffset) || type == typeof(DateOnly) || type == typeof(TimeOnly) || type == typeof(TimeSpan) || type == typeof(Uri)
        || type.GetMethod("TryParse", BindingFlags.Public | BindingFlags.Static, [typeof(string), type.MakeByRefType()]) is not null;
}
