using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace Xeno.ShopifyServer;

/// <summary>
/// Shopify's install endpoints for a non-embedded app: <c>/admin/oauth/authorize</c> (consent, then a signed
/// redirect with a code) and <c>/admin/oauth/access_token</c> (authorization code, refresh token and client
/// credentials grants).
/// </summary>
internal static class OAuthEndpoints
{
    private const string JsonContentType = "application/json; charset=utf-8";

    public static void MapShopifyOAuth(this IEndpointRouteBuilder endpoints, string prefix)
    {
        var oauth = prefix.TrimEnd('/') + "/{shop}/admin/oauth/";
        endpoints.MapGet(oauth + "authorize", (HttpContext http, string shop, ShopifyServerState state) => AuthorizeAsync(http, shop, state, consented: false));
        // The form is read by hand rather than bound, so a host app's antiforgery does not claim this fake Shopify's form.
        endpoints.MapPost(oauth + "authorize", (HttpContext http, string shop, ShopifyServerState state) => AuthorizeAsync(http, shop, state, consented: true));
        endpoints.MapPost(oauth + "access_token", (HttpContext http, string shop, ShopifyServerState state) => AccessTokenAsync(http, shop, state));
    }

    private static async Task AuthorizeAsync(HttpContext http, string domain, ShopifyServerState state, bool consented)
    {
        var shop = state.FindShop(domain);
        if (shop is null)
        {
            await WriteHtmlAsync(http, StatusCodes.Status404NotFound, OAuthPages.NotFound());
            return;
        }
        var fields = http.Request.Query.ToDictionary(q => q.Key, q => q.Value, StringComparer.Ordinal);
        if (consented && http.Request.HasFormContentType)
            foreach (var (key, value) in await http.Request.ReadFormAsync(http.RequestAborted))
                fields[key] = value;
        string? Field(string name) => fields.GetValueOrDefault(name).FirstOrDefault();

        var clientId = Field("client_id") ?? "";
        var app = state.FindApp(clientId);
        if (app is null)
        {
            await WriteHtmlAsync(http, StatusCodes.Status400BadRequest,
                OAuthPages.OAuthError("invalid_request", $"Could not find Shopify API application with api_key {clientId}"));
            return;
        }
        var redirectUri = Field("redirect_uri");
        if (string.IsNullOrEmpty(redirectUri))
        {
            await WriteHtmlAsync(http, StatusCodes.Status400BadRequest, OAuthPages.OAuthError("invalid_request", "The redirect_uri is missing"));
            return;
        }
        if (!app.RedirectUris.Any(allowed => string.Equals(allowed.TrimEnd('/'), redirectUri.TrimEnd('/'), StringComparison.Ordinal)))
        {
            await WriteHtmlAsync(http, StatusCodes.Status400BadRequest, OAuthPages.OAuthError("invalid_request", "The redirect_uri is not whitelisted"));
            return;
        }
        var scopes = (Field("scope") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        if (scopes.Count == 0)
            scopes = app.Scopes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var stateParameter = Field("state");

        if (!consented && !state.OAuth.AutoApprove)
        {
            var hidden = new List<KeyValuePair<string, string>>
            {
                new("client_id", clientId),
                new("scope", string.Join(',', scopes)),
                new("redirect_uri", redirectUri),
            };
            if (stateParameter is not null)
                hidden.Add(new("state", stateParameter));
            // grant_options[]=per-user asks for an online token; this server issues offline ones, but keeps the value.
            foreach (var option in fields.GetValueOrDefault("grant_options[]"))
                if (option is not null)
                    hidden.Add(new("grant_options[]", option));
            var cancel = new Dictionary<string, string?> { ["error"] = "access_denied" };
            if (stateParameter is not null)
                cancel["state"] = stateParameter;
            http.Response.Headers.ContentSecurityPolicy = OAuthPages.ContentSecurityPolicy;
            await WriteHtmlAsync(http, StatusCodes.Status200OK, OAuthPages.Consent(app.Name, shop.Name, shop.MyshopifyDomain,
                http.Request.PathBase + http.Request.Path, scopes, hidden, QueryHelpers.AddQueryString(redirectUri, cancel)));
            return;
        }

        var code = state.Grants.IssueCode(shop.MyshopifyDomain, app, string.Join(',', scopes), redirectUri, state.OAuth.AuthorizationCodeLifetime);
        var parameters = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["code"] = code,
            ["host"] = ShopifyOAuth.Host(shop.MyshopifyDomain),
            ["shop"] = shop.MyshopifyDomain,
            ["timestamp"] = state.Clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
        };
        if (stateParameter is not null)
            parameters["state"] = stateParameter;
        parameters["hmac"] = ShopifyOAuth.SignQuery(parameters, app.ClientSecret);
        http.Response.Redirect(QueryHelpers.AddQueryString(redirectUri, parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))));
    }

    private static async Task AccessTokenAsync(HttpContext http, string domain, ShopifyServerState state)
    {
        var shop = state.FindShop(domain);
        if (shop is null)
        {
            await WriteAsync(http, StatusCodes.Status404NotFound, """{"errors":"Not Found"}"""u8.ToArray());
            return;
        }
        var fields = await ReadFieldsAsync(http);
        var oauth = state.OAuth;
        var clientId = fields?.GetValueOrDefault("client_id") ?? "";
        var grantType = fields?.GetValueOrDefault("grant_type") is { Length: > 0 } named ? named : "authorization_code";
        void Record(bool succeeded, string? error, OAuthFault? fault) =>
            oauth.Record(new OAuthTokenRequest(shop.MyshopifyDomain, clientId, grantType, succeeded, error, state.Clock.GetUtcNow(), fault));

        if (oauth.Latency > TimeSpan.Zero)
            await Task.Delay(oauth.Latency, http.RequestAborted);
        var fault = oauth.NextFault(shop.MyshopifyDomain);
        switch (fault?.Kind)
        {
            case OAuthFaultKind.Delay:
                await Task.Delay(fault.Duration, http.RequestAborted);
                break;
            case OAuthFaultKind.Http500:
                Record(false, "server_error", fault);
                await WriteAsync(http, 500, """{"errors":"Internal Server Error"}"""u8.ToArray());
                return;
            case OAuthFaultKind.Http503:
                Record(false, "temporarily_unavailable", fault);
                await WriteAsync(http, 503, """{"errors":"Service Unavailable"}"""u8.ToArray());
                return;
        }

        var result = fields is null
            ? GrantResult.Refused("invalid_request", "The body is neither a JSON object nor a form.")
            : Grant(state, shop, fields, clientId, grantType);
        if (result.SpentRefreshTokenUsed)
            oauth.CountSpentRefreshTokenUse();
        Record(result.Tokens is not null, result.Error, fault);
        var (status, body) = result.Tokens is { } tokens
            ? (StatusCodes.Status200OK, TokenResponse(tokens))
            : (result.Error == "invalid_client" ? StatusCodes.Status401Unauthorized : StatusCodes.Status400BadRequest,
                new JsonObject { ["error"] = result.Error, ["error_description"] = result.Description });
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);

        if (fault?.Kind == OAuthFaultKind.DropAfterIssue)
        {
            // The grant has happened; the client sees a truncated response and never learns its outcome.
            http.Response.StatusCode = status;
            http.Response.ContentType = JsonContentType;
            http.Response.ContentLength = bytes.Length;
            await http.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2), http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
            http.Abort();
            return;
        }
        await WriteAsync(http, status, bytes);
    }

    private static GrantResult Grant(ShopifyServerState state, Model.Shop shop, Dictionary<string, string> fields, string clientId, string grantType)
    {
        var app = state.FindApp(clientId);
        if (app is null)
            return GrantResult.Refused("invalid_client", "Client authentication failed: unknown client_id.");
        if (!app.AcceptsSecret(fields.GetValueOrDefault("client_secret")))
            return GrantResult.Refused("invalid_client", "Client authentication failed: wrong client_secret.");
        var domain = shop.MyshopifyDomain;
        switch (grantType)
        {
            case "authorization_code":
                if (fields.GetValueOrDefault("code") is not { Length: > 0 } code)
                    return GrantResult.Refused("invalid_request", "The code parameter is missing.");
                var expiring = fields.GetValueOrDefault("expiring") is { } flag && (flag == "1" || flag.Equals("true", StringComparison.OrdinalIgnoreCase));
                return state.Grants.ExchangeCode(domain, app, code, expiring);
            case "refresh_token":
                if (fields.GetValueOrDefault("refresh_token") is not { Length: > 0 } refreshToken)
                    return GrantResult.Refused("invalid_request", "The refresh_token parameter is missing.");
                return state.Grants.Refresh(domain, app, refreshToken);
            case "client_credentials":
                if (app.Kind != ShopifyAppKind.DevDashboard)
                    return GrantResult.Refused("unauthorized_client", "The client credentials grant is only for apps created in the Dev Dashboard by the store's own organization.");
                if (app.OrganizationId is null || app.OrganizationId != shop.OrganizationId)
                    return GrantResult.Refused("unauthorized_client", "The app belongs to another organization than the store.");
                return state.Grants.IssueClientCredentials(domain, app);
            default:
                return GrantResult.Refused("unsupported_grant_type", $"The grant type {grantType} is not supported.");
        }
    }

    private static JsonObject TokenResponse(IssuedTokens tokens)
    {
        var json = new JsonObject { ["access_token"] = tokens.AccessToken, ["scope"] = tokens.Scopes };
        if (tokens.ExpiresIn is { } expiresIn)
            json["expires_in"] = (long)expiresIn.TotalSeconds;
        if (tokens.RefreshToken is { } refreshToken)
        {
            json["refresh_token"] = refreshToken;
            json["refresh_token_expires_in"] = (long)(tokens.RefreshTokenExpiresIn ?? TimeSpan.Zero).TotalSeconds;
        }
        return json;
    }

    /// <summary>
    /// The request's fields from a JSON object or a form, over any in the query string (Shopify's docs show the
    /// code exchange both ways); null when the body is not what its content type says.
    /// </summary>
    private static async Task<Dictionary<string, string>?> ReadFieldsAsync(HttpContext http)
    {
        var request = http.Request;
        var fields = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        if (request.HasJsonContentType())
        {
            try
            {
                using var json = await JsonDocument.ParseAsync(request.Body, cancellationToken: http.RequestAborted);
                if (json.RootElement.ValueKind != JsonValueKind.Object)
                    return null;
                foreach (var property in json.RootElement.EnumerateObject())
                {
                    // "expiring": 1 and "expiring": true mean the same as "1".
                    var value = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.Number => property.Value.GetRawText(),
                        JsonValueKind.True => "true",
                        JsonValueKind.False => "false",
                        _ => null,
                    };
                    if (value is not null)
                        fields[property.Name] = value;
                }
            }
            catch (JsonException)
            {
                return null;
            }
        }
        else if (request.HasFormContentType)
        {
            foreach (var (key, value) in await request.ReadFormAsync(http.RequestAborted))
                fields[key] = value.ToString();
        }
        return fields;
    }

    private static Task WriteHtmlAsync(HttpContext http, int status, string html)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/html; charset=utf-8";
        return http.Response.WriteAsync(html, Encoding.UTF8, http.RequestAborted);
    }

    private static async Task WriteAsync(HttpContext http, int status, byte[] body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = JsonContentType;
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }
}
