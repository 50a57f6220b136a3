using System.Text;
using CsCheck;

namespace Xeno.Web.Tests.BadInput;

/// <summary>JSON and form bodies for the API's and the pages' requests: each field missing, a string of any kind, a value
/// of another JSON type, or a plausible value; or a body that is not a JSON object at all, sent under any content type.</summary>
internal static class RequestBodies
{
    public enum FieldKind { Plausible, Missing, OddString, OtherType }

    /// <summary>One field: its kind, the plausible value's pick, a junk string and a junk JSON value.</summary>
    public sealed record Field(FieldKind Kind, int Pick, string Odd, string Raw);

    public static readonly Gen<Field> FieldGen = Gen.Select(
        Gen.Frequency((5, Gen.Const(FieldKind.Plausible)), (2, Gen.Const(FieldKind.Missing)), (3, Gen.Const(FieldKind.OddString)), (2, Gen.Const(FieldKind.OtherType))),
        Gen.Int[0, 7], Junk.String, Junk.RawValue, (k, p, s, r) => new Field(k, p, s, r));

    public enum Shape { Object, NotJson, Empty, Truncated, TopLevelArray, TopLevelString, TooDeep, DuplicateKeys, Huge }

    public static readonly Gen<Shape> ShapeGen = Gen.Frequency((14, Gen.Const(Shape.Object)), (1, Gen.Enum<Shape>()));

    public static readonly string[] ContentTypes =
        ["application/json", "application/json; charset=utf-8", "", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "multipart/form-data; boundary=x", "application/problem+json"];

    public static readonly Gen<int> ContentTypeGen = Gen.Frequency((12, Gen.Const(0)), (1, Gen.Int[0, ContentTypes.Length - 1]));

    /// <summary>The JSON text of an object with <paramref name="fields"/> (name → field and its plausible values), spoiled by
    /// <paramref name="shape"/>.</summary>
    public static byte[] Json(Shape shape, IEnumerable<(string Name, Field Field, string[] Plausible)> fields)
    {
        var members = new List<string>();
        foreach (var (name, field, plausible) in fields)
        {
            var value = field.Kind switch
            {
                FieldKind.Plausible => plausible.Length == 0 ? null : System.Text.Json.JsonSerializer.Serialize(plausible[field.Pick % plausible.Length]),
                FieldKind.Missing => null,
                FieldKind.OddString => System.Text.Json.JsonSerializer.Serialize(field.Odd),
                _ => field.Raw,
            };
            if (value is not null) members.Add($"\"{name}\":{value}");
        }
        if (shape == Shape.DuplicateKeys && members.Count > 0) members.Add(members[0].Split(':')[0] + ":null");
        var text = "{" + string.Join(",", members) + "}";
        return shape switch
        {
            Shape.NotJson => "email=a@b.c&password=x"u8.ToArray(),
            Shape.Empty => [],
            Shape.Truncated => Encoding.UTF8.GetBytes(text[..Math.Max(1, text.Length / 2)]),
            Shape.TopLevelArray => Encoding.UTF8.GetBytes("[" + text + "]"),
            Shape.TopLevelString => Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(text)),
            Shape.TooDeep => Encoding.UTF8.GetBytes("{\"email\":" + Junk.Nested(2000) + "}"),
            Shape.Huge => Encoding.UTF8.GetBytes("{\"email\":\"" + new string('a', 3 * 1024 * 1024) + "@example.com\",\"password\":\"x\"}"),
            _ => Encoding.UTF8.GetBytes(text),
        };
    }

    /// <summary>A form body of the fields (plausible, missing or odd, URL-encoded), or a body no browser sends.</summary>
    public static byte[] Form(Shape shape, IEnumerable<(string Name, Field Field, string[] Plausible)> fields, string antiforgery)
    {
        var pairs = new List<string> { "__RequestVerificationToken=" + Escape(antiforgery) };
        foreach (var (name, field, plausible) in fields)
        {
            var value = field.Kind switch
            {
                FieldKind.Plausible => plausible.Length == 0 ? null : plausible[field.Pick % plausible.Length],
                FieldKind.Missing => null,
                FieldKind.OddString => field.Odd,
                _ => field.Raw,
            };
            if (value is not null) pairs.Add(name + "=" + Escape(value));
        }
        var text = string.Join("&", pairs);
        return shape switch
        {
            Shape.NotJson => Encoding.UTF8.GetBytes(text + "&%zz=%&=&&email"),
            Shape.Empty => [],
            Shape.Truncated => Encoding.UTF8.GetBytes(text[..Math.Max(1, text.Length / 2)]),
            Shape.DuplicateKeys => Encoding.UTF8.GetBytes(text + "&email=second%40example.com&password=second-password"),
            Shape.Huge => Encoding.UTF8.GetBytes(text + "&pad=" + new string('a', 3 * 1024 * 1024)),
            _ => Encoding.UTF8.GetBytes(text),
        };
    }

    /// <summary>URL-encoding as a browser does it; a lone surrogate, which no browser can hold, goes as U+FFFD.</summary>
    public static string Escape(string value) => Uri.EscapeDataString(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value)));
}
