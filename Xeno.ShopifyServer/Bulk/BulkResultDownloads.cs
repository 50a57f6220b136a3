using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Xeno.ShopifyServer;

/// <summary>
/// Serves result files at <c>{prefix}/bulk-results/{token}.jsonl</c> the way the signed cloud-storage URLs Shopify
/// hands out behave: Content-Length, Range requests (206) so a broken download resumes, and 403 with an XML error
/// for a link that is unknown or has expired (7 days after the operation, by the shop's clock).
/// </summary>
internal static class BulkResultDownloads
{
    public const string Route = "/bulk-results/{file}";

    public static async Task HandleAsync(HttpContext http, string file, ShopifyServerState state)
    {
        const string suffix = ".jsonl";
        var token = file.EndsWith(suffix, StringComparison.Ordinal) ? file[..^suffix.Length] : "";
        foreach (var shop in state.Shops)
        {
            if (token.Length == 0 || shop.Bulk.Result(token) is not { } result)
                continue;
            if (result.Expired || !File.Exists(result.Path))
            {
                await DenyAsync(http, "ExpiredToken", "Invalid argument.", "The provided token has expired.");
                return;
            }
            if (shop.Bulk.TakeDownloadToCut())
                await CutAsync(http, result.Path);
            else
                await TypedResults.PhysicalFile(result.Path, "application/jsonl", enableRangeProcessing: true).ExecuteAsync(http);
            return;
        }
        await DenyAsync(http, "AccessDenied", "Access denied.", "Anonymous caller does not have storage.objects.get access to the object.");
    }

    /// <summary>Announces the whole (range of the) file, sends half of it and drops the connection.</summary>
    private static async Task CutAsync(HttpContext http, string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var length = stream.Length;
        var (start, end) = (0L, length - 1);
        if (RangeOf(http.Request, length) is { } range)
        {
            (start, end) = range;
            http.Response.StatusCode = StatusCodes.Status206PartialContent;
            http.Response.Headers.ContentRange = $"bytes {start}-{end}/{length}";
        }
        else
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
        }
        http.Response.ContentType = "application/jsonl";
        http.Response.Headers.AcceptRanges = "bytes";
        http.Response.ContentLength = end - start + 1;
        stream.Seek(start, SeekOrigin.Begin);
        var half = (end - start + 1) / 2;
        var buffer = new byte[81920];
        while (half > 0)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, half)), http.RequestAborted);
            if (read == 0)
                break;
            await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), http.RequestAborted);
            half -= read;
        }
        await http.Response.Body.FlushAsync(http.RequestAborted);
        http.Abort();
    }

    /// <summary>A single satisfiable byte range of the request, or null (then the whole file is meant).</summary>
    private static (long Start, long End)? RangeOf(HttpRequest request, long length)
    {
        if (!RangeHeaderValue.TryParse(request.Headers.Range.ToString(), out var header) || header.Ranges.Count != 1 || length == 0)
            return null;
        var range = header.Ranges.First();
        long start, end;
        if (range.From is { } from)
        {
            start = from;
            end = Math.Min(range.To ?? length - 1, length - 1);
        }
        else if (range.To is { } suffix)
        {
            start = Math.Max(0, length - suffix);
            end = length - 1;
        }
        else
        {
            return null;
        }
        return start <= end ? (start, end) : null;
    }

    private static async Task DenyAsync(HttpContext http, string code, string message, string details)
    {
        var body = Encoding.UTF8.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message><Details>{details}</Details></Error>"));
        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        http.Response.ContentType = "application/xml; charset=UTF-8";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }
}
