using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Features.Metrics;

// The query parameters of the metrics endpoints, declared as [AsParameters] so that the OpenAPI document names them
// (their descriptions are added by MetricsEndpointDescription: [Description] on an [AsParameters] record's parameter
// breaks the document in ASP.NET Core 10). Every one binds as text and is checked by the use case: a malformed value
// answers 400 problem+json (API.md), never a binding failure.

public sealed record RangeQuery(
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "compare")] string? Compare,
    [FromQuery(Name = "format")] string? Format);

public sealed record RankedRangeQuery(
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "limit")] string? Limit,
    [FromQuery(Name = "compare")] string? Compare,
    [FromQuery(Name = "format")] string? Format)
{
    public RangeQuery Range => new(From, To, Compare, Format);
}

public sealed record AsOfQuery(
    [FromQuery(Name = "asOf")] string? AsOf,
    [FromQuery(Name = "format")] string? Format);

public sealed record CohortsQuery(
    [FromQuery(Name = "asOf")] string? AsOf,
    [FromQuery(Name = "months")] string? Months,
    [FromQuery(Name = "format")] string? Format);

/// <summary>METRICS.md "Comparisons": the earlier range a range is set beside.</summary>
public enum CompareWith { Previous, Year }

/// <summary>A range request once read: the range, the range it is compared with (if asked), and whether it answers CSV.</summary>
public sealed record MetricsRequest(MetricsRange Range, MetricsRange? Comparison, bool Csv)
{
    /// <summary>Reads from, to, compare and format (and the Accept header): 400 problem+json for any of them malformed.</summary>
    public static async Task<(MetricsRequest? Request, IResult? Error)> ParseAsync(RangeQuery query, HttpRequest request, XenoDb db,
        TenantContext tenant, TimeProvider clock)
    {
        // Checked before the range, whose check reads the store: a bad parameter costs no query.
        if (!MetricsFormat.TryCsv(query.Format, request, out var csv)) return (null, MetricsFormat.Bad);
        if (!MetricsComparison.TryParse(query.Compare, out var compare)) return (null, MetricsComparison.Bad);
        var store = await db.Stores.AsNoTracking().FirstAsync(s => s.Id == tenant.TenantId);
        var (range, error) = MetricsRange.Parse(query.From, query.To, store, MetricsRange.Today(store.Timezone, clock));
        if (range is null) return (null, error);
        return (new MetricsRequest(range, compare is { } c ? MetricsComparison.Of(range, c) : null, csv), null);
    }
}

public static class MetricsComparison
{
    public static readonly IResult Bad = MetricsRange.Bad("compare must be previous or year.");

    /// <summary>Absent or empty: no comparison; otherwise exactly <c>previous</c> or <c>year</c>.</summary>
    public static bool TryParse(string? text, out CompareWith? compare)
    {
        compare = null;
        switch (text)
        {
            case null or "": return true;
            case "previous": compare = CompareWith.Previous; return true;
            case "year": compare = CompareWith.Year; return true;
            default: return false;
        }
    }

    /// <summary>
    /// The previous period of N days is the N days ending the day before <c>from</c>; the same period last year is
    /// <c>from − 1 year .. to − 1 year</c>, where DateOnly.AddYears already turns 29 February into 28 February. Dates are the
    /// shop's local dates, so a range across a DST change compares whole local days with whole local days.
    /// </summary>
    public static MetricsRange Of(MetricsRange range, CompareWith compare) => compare switch
    {
        CompareWith.Previous => range with { From = range.From.AddDays(-range.Days), To = range.From.AddDays(-1) },
        _ => range with { From = range.From.AddYears(-1), To = range.To.AddYears(-1) },
    };

    /// <summary>(this − earlier) ÷ earlier to 4 decimals, null when earlier is 0; from the figures as shown (rounded), so
    /// that a reader who divides the two numbers of the answer gets the same change.</summary>
    public static decimal? Change(decimal current, decimal earlier) =>
        earlier == 0 ? null : decimal.Round((current - earlier) / earlier, 4, MidpointRounding.AwayFromZero);
}

public static class MetricsFormat
{
    public static readonly IResult Bad = MetricsRange.Bad("format must be csv or json.");

    /// <summary>
    /// CSV when <c>format=csv</c> (whatever the Accept header), JSON when <c>format=json</c>; without <c>format</c>, CSV when
    /// the Accept header prefers text/csv to JSON (by quality, then by order), JSON otherwise.
    /// </summary>
    public static bool TryCsv(string? format, HttpRequest request, out bool csv)
    {
        csv = false;
        switch (format)
        {
            case "csv": csv = true; return true;
            case "json": return true;
            case null or "": break;
            default: return false;
        }
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)) return true;
        foreach (var type in accepted.Where(t => t.Quality is not 0).OrderByDescending(t => t.Quality ?? 1))
        {
            if (type.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase)) { csv = true; return true; }
            if (type.MatchesAllTypes || type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || type.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase)
                || type.MediaType.Equals("application/problem+json", StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return true;
    }
}
