using System.Net;
using Microsoft.AspNetCore.Http;
using System.Text;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.BadInput;

/// <summary>A request sent to the in-memory host exactly as built: raw body bytes, any header values, a client address of
/// its own (so that these tests' failed logins count against nobody else's), no client-side validation in between.</summary>
internal sealed record RawRequest(string Method, string PathAndQuery, byte[]? Body = null, string? ContentType = null)
{
    public List<(string Name, string Value)> Headers { get; init; } = [];

    /// <summary>IPv6 documentation prefix: an address no real client has, never reached over any network.</summary>
    public static readonly IPAddress PropertyClient = IPAddress.Parse("2001:db8::bad:f00d");

    public RawRequest With(string name, string? value)
    {
        if (value is not null) Headers.Add((name, value));
        return this;
    }

    public async Task<RawResponse> SendAsync(XenoFixture fixture, IPAddress? client = null)
    {
        var context = await fixture.Host.Server.SendAsync(c =>
        {
            c.Connection.RemoteIpAddress = client ?? PropertyClient;
            var request = c.Request;
            request.Method = Method;
            var q = PathAndQuery.IndexOf('?');
            request.Path = q < 0 ? PathAndQuery : PathAndQuery[..q];
            request.QueryString = q < 0 ? QueryString.Empty : new QueryString(PathAndQuery[q..]);
            foreach (var (name, value) in Headers) request.Headers.Append(name, value);
            if (Body is not null)
            {
                request.Body = new MemoryStream(Body);
                request.ContentLength = Body.Length;
                // The test server hands the app its own (empty) pipe; what reads the body as a pipe (JSON binding) reads this one.
                c.Features.Set<Microsoft.AspNetCore.Http.Features.IRequestBodyPipeFeature>(new Microsoft.AspNetCore.Http.Features.RequestBodyPipeFeature(c));
                // ...and says the request has a body (it says none otherwise, and JSON binding then reads nothing).
                c.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>(new HasBody());
            }
            if (ContentType is not null) request.ContentType = ContentType;
        });
        using var reader = new StreamReader(context.Response.Body, Encoding.UTF8);
        return new RawResponse(context.Response.StatusCode, context.Response.ContentType, await reader.ReadToEndAsync(),
            context.Response.Headers.SetCookie.ToArray()!);
    }

    public override string ToString()
    {
        var text = new StringBuilder($"{Method} {PathAndQuery}");
        foreach (var (name, value) in Headers) text.Append($"\n  {name}: {Show(value)}");
        if (Body is not null) text.Append($"\n  body ({Body.Length} bytes{(ContentType is null ? "" : ", " + ContentType)}): {Show(Encoding.UTF8.GetString(Body))}");
        return text.ToString();
    }

    /// <summary>A value as a person can read it in a failure: escaped, and cut to its two ends when long.</summary>
    public static string Show(string value)
    {
        var escaped = new StringBuilder();
        foreach (var ch in value.Length > 600 ? value[..300] + $"…({value.Length - 600} more)…" + value[^300..] : value)
            escaped.Append(ch < 0x20 || ch is >= '\u007f' and <= '\u009f' || char.IsSurrogate(ch) ? $"\\u{(int)ch:x4}" : ch.ToString());
        return escaped.ToString();
    }
}

internal sealed record RawResponse(int Status, string? ContentType, string Body, string[] SetCookies)
{
    public bool IsProblem => ContentType?.StartsWith("application/problem+json", StringComparison.Ordinal) == true;

    /// <summary>"400 The webhook body is not JSON." and the like: for the tallies a property prints.</summary>
    public string Outcome
    {
        get
        {
            if (!IsProblem) return Status.ToString();
            try { return $"{Status} {System.Text.Json.JsonDocument.Parse(Body).RootElement.GetProperty("title").GetString()}"; }
            catch (Exception) { return Status.ToString(); }
        }
    }

    public override string ToString() => $"{Status} {ContentType} {RawRequest.Show(Body.Length > 400 ? Body[..400] : Body)}";
}

internal sealed class HasBody : Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature
{
    public bool CanHaveBody => true;
}
