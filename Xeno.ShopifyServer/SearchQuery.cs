using System.Globalization;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>
/// The subset of Shopify's search syntax Xeno relies on: terms like <c>updated_at:&gt;='2026-01-01T00:00:00Z'</c>,
/// <c>created_at:&lt;=2026-02-01</c>, <c>test:false</c>, joined by spaces or AND, negated with a leading '-'.
/// A term on a field the resource does not know is ignored, as Shopify ignores it (with a warning).
/// REVIEW: OR and free-text terms are not supported; free text is ignored.
/// </summary>
internal sealed class SearchQuery
{
    /// <summary>Returned by <see cref="GraphModel.SearchValue"/> for fields a resource cannot be searched by.</summary>
    internal static readonly object UnknownField = new();

    private readonly List<Term> _terms;
    private readonly TimeZoneInfo _timeZone;

    private SearchQuery(List<Term> terms, TimeZoneInfo timeZone)
    {
        _terms = terms;
        _timeZone = timeZone;
    }

    private sealed record Term(string Field, string Operator, string Value, bool Negated);

    public static SearchQuery Parse(string? query, TimeZoneInfo timeZone)
    {
        var terms = new List<Term>();
        foreach (var token in Tokenize(query ?? ""))
        {
            if (token is "AND" or "and")
                continue;
            var negated = token.StartsWith('-');
            var body = negated ? token[1..] : token;
            var colon = body.IndexOf(':');
            if (colon <= 0)
                continue;
            var field = body[..colon];
            var rest = body[(colon + 1)..];
            var op = rest.StartsWith(">=", StringComparison.Ordinal) ? ">=" : rest.StartsWith("<=", StringComparison.Ordinal) ? "<="
                : rest.StartsWith('>') ? ">" : rest.StartsWith('<') ? "<" : "=";
            var value = rest[(op == "=" ? 0 : op.Length)..].Trim('\'', '"');
            terms.Add(new Term(field, op, value, negated));
        }
        return new SearchQuery(terms, timeZone);
    }

    public bool Matches(GraphModel model)
    {
        foreach (var term in _terms)
        {
            var actual = model.SearchValue(term.Field);
            if (ReferenceEquals(actual, UnknownField))
                continue;
            if (Compare(actual, term) == term.Negated)
                return false;
        }
        return true;
    }

    private bool Compare(object? actual, Term term)
    {
        int? comparison = actual switch
        {
            null => null,
            DateTimeOffset at => ParseTime(term.Value) is { } wanted ? at.CompareTo(wanted) : null,
            long number => long.TryParse(term.Value, CultureInfo.InvariantCulture, out var wanted) ? number.CompareTo(wanted) : null,
            int number => int.TryParse(term.Value, CultureInfo.InvariantCulture, out var wanted) ? number.CompareTo(wanted) : null,
            bool flag => bool.TryParse(term.Value, out var wanted) ? (flag == wanted ? 0 : 1) : null,
            _ => string.Compare(actual.ToString(), term.Value, StringComparison.OrdinalIgnoreCase),
        };
        if (comparison is not { } c)
            return false;
        return term.Operator switch
        {
            ">=" => c >= 0,
            "<=" => c <= 0,
            ">" => c > 0,
            "<" => c < 0,
            _ => c == 0,
        };
    }

    /// <summary>A full timestamp as given, or a bare date as midnight in the shop's time zone.</summary>
    private DateTimeOffset? ParseTime(string value)
    {
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            var local = date.ToDateTime(TimeOnly.MinValue);
            return new DateTimeOffset(local, _timeZone.GetUtcOffset(local));
        }
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
    }

    private static IEnumerable<string> Tokenize(string query)
    {
        var current = new System.Text.StringBuilder();
        char? quote = null;
        foreach (var ch in query)
        {
            if (quote is not null)
            {
                current.Append(ch);
                if (ch == quote)
                    quote = null;
            }
            else if (ch is '\'' or '"')
            {
                quote = ch;
                current.Append(ch);
            }
            else if (char.IsWhiteSpace(ch))
            {
                if (current.Length > 0)
                    yield return current.ToString();
                current.Clear();
            }
            else
            {
                current.Append(ch);
            }
        }
        if (current.Length > 0)
            yield return current.ToString();
    }
}
