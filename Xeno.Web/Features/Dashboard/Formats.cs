using System.Collections.Concurrent;
using System.Globalization;

namespace Xeno.Web.Features.Dashboard;

/// <summary>How the pages write money, counts, dates and times: one format for each, in the shop's currency and zone.</summary>
public static class Formats
{
    private static readonly ConcurrentDictionary<string, NumberFormatInfo?> CurrencyFormats = new(StringComparer.Ordinal);

    /// <summary>An amount in the shop's currency, as .NET's culture data writes that currency (its symbol, its
    /// decimals: ¥1,235, ₹12,34,567.50, CHF 1’234.50); a code no culture uses is written after the number.
    /// <paramref name="whole"/> drops the decimals, for the round figures of a chart's axis.</summary>
    public static string Money(decimal amount, string currency, bool whole = false)
    {
        var sign = amount < 0 ? "−" : "";
        var format = CurrencyFormats.GetOrAdd(currency, CurrencyFormat);
        if (format is null)
            return sign + Math.Abs(amount).ToString(whole ? "#,##0" : "#,##0.00", CultureInfo.InvariantCulture) + " " + currency;
        return sign + Math.Abs(amount).ToString(whole ? "C0" : "C", format);
    }

    /// <summary>The number format of a culture that uses the currency: an English one of its home country (ISO 4217
    /// codes begin with the country's), else any English one (en-IE for EUR), else one of its home country's own
    /// (ja-JP for JPY). The page is in English, so English cultures come first where the data has one.
    /// REVIEW: for a currency shared by several countries with no English culture, the first by name lends its layout.</summary>
    private static NumberFormatInfo? CurrencyFormat(string currency)
    {
        var users = CultureInfo.GetCultures(CultureTypes.SpecificCultures)
            .Select(c => (Culture: c, Region: RegionOf(c)))
            .Where(c => c.Region?.ISOCurrencySymbol == currency)
            .OrderBy(c => c.Culture.Name, StringComparer.Ordinal)
            .ToList();
        if (users.Count == 0) return null;
        bool Home((CultureInfo Culture, RegionInfo? Region) c) =>
            currency.Length == 3 && c.Region!.TwoLetterISORegionName.Equals(currency[..2], StringComparison.OrdinalIgnoreCase);
        bool English((CultureInfo Culture, RegionInfo? Region) c) => c.Culture.TwoLetterISOLanguageName == "en";
        var chosen = users.FirstOrDefault(c => Home(c) && English(c)).Culture
            ?? users.FirstOrDefault(English).Culture
            ?? users.FirstOrDefault(Home).Culture
            ?? users[0].Culture;
        if (English(users.First(c => c.Culture == chosen))) return NumberFormatInfo.ReadOnly(chosen.NumberFormat);
        // A culture of another language lends its symbol, decimals and layout; the separators stay the page's English
        // ones, so that one page does not write 1,234.50 in one tile and 1٬234٫50 in the next.
        var format = (NumberFormatInfo)chosen.NumberFormat.Clone();
        format.CurrencyGroupSeparator = ",";
        format.CurrencyDecimalSeparator = ".";
        return NumberFormatInfo.ReadOnly(format);
    }

    private static RegionInfo? RegionOf(CultureInfo culture)
    {
        try { return new RegionInfo(culture.Name); }
        catch (ArgumentException) { return null; }
    }

    public static string Percent(decimal rate) => (rate * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>"1 order", "2 orders".</summary>
    public static string Count(int count, string one, string many) =>
        count.ToString("#,##0", CultureInfo.InvariantCulture) + " " + (count == 1 ? one : many);

    /// <summary>The one way pages write a date: 3 Mar 2026.</summary>
    public static string Date(DateOnly date) => date.ToString("d MMM yyyy", CultureInfo.InvariantCulture);

    /// <summary>The one way pages write a moment: the date as above and the time in the shop's zone, with that zone's
    /// offset at the moment (UTC−4), as .NET has no abbreviations (EDT) to give.</summary>
    public static string Time(DateTimeOffset instant, string timeZone)
    {
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var z) ? z : TimeZoneInfo.Utc;
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        return Date(DateOnly.FromDateTime(local.DateTime)) + ", " + local.ToString("HH:mm", CultureInfo.InvariantCulture) + " " + ZoneName(zone, local);
    }

    private static string ZoneName(TimeZoneInfo zone, DateTimeOffset local)
    {
        if (zone == TimeZoneInfo.Utc) return "UTC";
        var offset = local.Offset;
        return "UTC" + (offset < TimeSpan.Zero ? "−" : "+") + offset.Duration().ToString(offset.Minutes == 0 ? "%h" : "h\\:mm", CultureInfo.InvariantCulture);
    }
}
