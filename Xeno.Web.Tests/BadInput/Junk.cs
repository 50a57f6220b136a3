using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace Xeno.Web.Tests.BadInput;

/// <summary>Odd values that requests can carry: the catalog first (what tends to break parsers and databases), then
/// random text. Earlier entries are "smaller" to CsCheck, so a failure shrinks towards the plainest value that fails.</summary>
internal static class Junk
{
    /// <summary>Strings worth trying in any text field: empty, whitespace, long, unicode of every kind, escapes,
    /// injection-looking text, numbers in odd spellings, dates out of range.</summary>
    public static readonly string[] Catalog =
    [
        "", " ", "a", "0", "-1", "null", "true", "undefined", "NaN", "Infinity", "-0", "1e400", "0x1F", "+5", " 5 ", "5.0", "٥",
        "18446744073709551616", "-9223372036854775809", "9223372036854775807", "79228162514264337593543950336",
        "2024-02-30", "2024-13-01", "0001-01-01", "9999-12-31", "-infinity", "infinity", "+002024-01-01", "2024-1-1", "20240101",
        "٢٠٢٤-٠١-٠١", "2024-01-01T00:00:00Z", "1970-01-01T00:00:00+14:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00",
        "'; DROP TABLE orders; --", "\" OR 1=1 --", "') OR ('1'='1", "%00", "%27", "\\", "\\u0000", "${jndi:ldap://x}", "{{7*7}}",
        "<script>alert(1)</script>", "../../etc/passwd", "a,b", "a&b=c", "#", "?", "/", "%", "%%", "+", "*", "_", ":", "@", "@@",
        "Zoë 🦄", "\u202e\u0644\u0627", "ﷺ﷽", "\u0301\u0301\u0301", "𝕏", "ᚠᛇᚻ", "日本語のテキスト", "\u00a0", "\u2028", "\ufeff", "\ufffd",
        "\t", "\r\n", "\u0000", "a\u0000b", "\u0007", "\ud800", "\udfff", "\ud83e",
        new string('a', 200), new string('a', 201), new string('x', 1000), new string('é', 513), new string('9', 400), string.Concat(Enumerable.Repeat("🦄", 300)),
    ];

    private static readonly string Alphabet =
        "abcxyzABCXYZ0123456789 -_.@+/:;,'\"\\%&=?#!*()[]{}<>|~`^$\t\n\r\u0000\u0001\u007f\u00a0éßüœ日本🦄\u202e\u200b\ufeff";

    /// <summary>Any string: a catalog entry, or random text from a hostile alphabet.</summary>
    public static readonly Gen<string> String = Gen.Frequency(
        (3, Gen.Int[0, Catalog.Length - 1].Select(i => Catalog[i])),
        (1, Gen.String[Gen.Char[Alphabet], 0, 40]));

    /// <summary>What HTTP can carry in a header value: visible ASCII, spaces, tabs and Latin-1 (no control characters,
    /// which no server lets through, and which the in-memory test server would pass on as no real one does).</summary>
    public static Gen<string> HeaderValue { get; } = String.Select(s => new string(s.Where(c => c is '\t' or >= ' ' and <= '~' or >= '\u00a0' and <= '\u00ff').ToArray()));

    private static readonly string[] Tokens =
    [
        "null", "true", "false", "0", "-1", "1.5", "{}", "[]", "\"\"", "1e400", "-1e400", "18446744073709551616", "-9223372036854775809",
        "79228162514264337593543950336", "1e-400", "-0.0", "[1,\"a\",null]", "\"\\ud800\"", "\"\\u0000\"", "{\"id\":1,\"id\":\"x\"}",
        "1E+2", "0.1e1", "123456789012345678901234567890.123456789", "-79228162514264337593543950335",
    ];

    /// <summary>A value of any JSON type as JSON text, the kinds a Shopify field never holds included: numbers past
    /// every integer and decimal type, lone surrogates, arrays nested past parsers' depth limits.</summary>
    public static readonly Gen<string> RawValue = Gen.Frequency(
        (4, Gen.Int[0, Tokens.Length - 1].Select(i => Tokens[i])),
        (3, String.Select(s => System.Text.Json.JsonSerializer.Serialize(s))),
        (1, Gen.Long.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "null")),
        (1, Gen.Decimal.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.Int[1, 300].Select(Nested)));

    /// <summary>Arrays within arrays, as JSON text: past System.Text.Json's default limit of 64 from 65 on.</summary>
    public static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
