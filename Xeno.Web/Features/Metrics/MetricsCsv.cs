using System.Globalization;
using CsvHelper;
using Microsoft.Net.Http.Headers;

namespace Xeno.Web.Features.Metrics;

/// <summary>
/// A metrics answer as CSV (API.md): a header row, then one row per item or day (or one row for summary and checkouts),
/// the JSON fields flattened. RFC 4180 as CsvHelper writes it by default (CRLF, quotes only where needed); numbers in the
/// invariant culture with the scale they have in JSON (12.50 stays 12.50), dates as yyyy-MM-dd, null as an empty field.
/// </summary>
public sealed class MetricsCsv(string fileName, IReadOnlyList<string> header) : IResult
{
    private readonly List<object?[]> _rows = [];

    /// <summary>
    /// Names the file after the store and what it holds, e.g. <c>acme-summary-2026-05-16-2026-06-14.csv</c>.
    /// </summary>
    public static string FileName(MetricsRange range, string what) =>
        FileName(range.ShopDomain, what, $"{range.From:yyyy-MM-dd}-{range.To:yyyy-MM-dd}");

    public static string FileName(string shopDomain, string what, string dates)
    {
        var shop = shopDomain.EndsWith(".myshopify.com", StringComparison.OrdinalIgnoreCase) ? shopDomain[..^".myshopify.com".Length] : shopDomain;
        return string.Join('-', new[] { shop, what, dates }.Where(p => p.Length > 0)) + ".csv";
    }

    public MetricsCsv Row(params object?[] cells)
    {
        if (cells.Length != header.Count) throw new ArgumentException($"{cells.Length} cells for {header.Count} columns.", nameof(cells));
        _rows.Add(cells);
        return this;
    }

    public async Task ExecuteAsync(HttpContext http)
    {
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = fileName, FileName = fileName }.ToString();
        // Names, emails and titles come from the shop's customers: one starting with = + - @ would run as a formula in a
        // spreadsheet, so such text gets a leading ' (OWASP). Numbers are not text here, so -5.00 stays a number.
        var options = CsvWriterOptions.Default with
        {
            Injection = CsvInjection.Escape,
            FormatProvider = CultureInfo.InvariantCulture,
            TrueValue = "true",
            FalseValue = "false",
        };
        await using var csv = CsvWriter.Create(http.Response.Body, options, leaveOpen: true);
        csv.WriteHeader(header.ToArray());
        foreach (var row in _rows)
        {
            foreach (var cell in row)
            {
                switch (cell)
                {
                    case null: csv.WriteField((string?)null); break;
                    case string text: csv.WriteField(text); break;
                    case decimal number: csv.WriteField(number, default); break;
                    case int number: csv.WriteField(number, default); break;
                    case long number: csv.WriteField(number, default); break;
                    case bool flag: csv.WriteField(flag); break;
                    case DateOnly date: csv.WriteField(date, "yyyy-MM-dd"); break;
                    case Guid id: csv.WriteField(id, default); break;
                    default: throw new InvalidOperationException($"No CSV form for {cell.GetType()}.");
                }
            }
            csv.EndRecord();
        }
        await csv.FlushAsync(http.RequestAborted);
    }
}

/// <summary>Column names of nested JSON fields: <c>comparison.orders</c> becomes <c>comparisonOrders</c>.</summary>
public static class MetricsCsvNames
{
    public static string Comparison(string field) => "comparison" + char.ToUpperInvariant(field[0]) + field[1..];
    public static string Change(string field) => "change" + char.ToUpperInvariant(field[0]) + field[1..];
}
