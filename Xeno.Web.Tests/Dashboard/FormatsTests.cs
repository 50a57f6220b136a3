using Xeno.Web.Features.Dashboard;

namespace Xeno.Web.Tests.Dashboard;

/// <summary>Money as .NET's culture data writes each currency: symbol, decimals and grouping of a culture that uses it.</summary>
public sealed class FormatsTests
{
    [Theory]
    [InlineData("USD", 1234.5, "$1,234.50")]
    [InlineData("JPY", 1234.5, "￥1,235")] // no decimals; ja-JP's own yen sign
    [InlineData("EUR", 1234.5, "€1,234.50")]
    [InlineData("INR", 1234567.5, "₹12,34,567.50")] // lakh grouping
    [InlineData("CHF", 1234.5, "CHF 1’234.50")]
    [InlineData("KWD", 1.2345, "1.235 \u062F.\u0643.\u200F")] // three decimals; ar-KW's symbol after, English separators
    [InlineData("GBP", -12.3, "−£12.30")]
    [InlineData("XTS", 1234.5, "1,234.50 XTS")] // a code no culture uses: after the number
    public void money_is_written_as_the_culture_data_writes_the_currency(string currency, double amount, string expected) =>
        Assert.Equal(expected, Formats.Money((decimal)amount, currency));

    [Fact]
    public void whole_units_drop_the_decimals_for_chart_axes() =>
        Assert.Equal("$2,000", Formats.Money(2000m, "USD", whole: true));

    [Fact]
    public void counts_are_singular_for_one() =>
        Assert.Equal(["0 orders", "1 order", "2 orders"], new[] { 0, 1, 2 }.Select(n => Formats.Count(n, "order", "orders")));

    [Fact]
    public void a_moment_is_written_in_the_shops_zone() =>
        Assert.Equal("1 Jul 2025, 10:05 UTC−4", Formats.Time(new DateTimeOffset(2025, 7, 1, 14, 5, 0, TimeSpan.Zero), "America/New_York"));
}
