using System.Globalization;
using CsCheck;
using Xeno.ShopifyServer;
using Xeno.Web.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Xeno.Web.Tests.BadInput;

/// <summary>
/// Every metrics endpoint, the overview, the dashboard page and its htmx tiles, asked with query strings of garbage:
/// dates malformed, impossible or at the ends of the calendar, limits out of range or oddly written, injection-looking
/// text, repeated parameters, and store ids that are not the caller's or not ids. Never a 5xx; the API's 4xx are
/// problem+json; and reading writes nothing.
/// </summary>
[Collection(XenoCollection.Name)]
public sealed class MetricsPropertyTests(XenoFixture fixture, ITestOutputHelper output)
{
    private static readonly string[] Paths =
    [
        "metrics/summary", "metrics/daily", "metrics/top-customers", "metrics/products", "metrics/checkouts", "metrics/segments",
        "metrics/cohorts", "/api/v1/metrics/overview", "page", "tiles/summary", "tiles/daily", "tiles/top-customers", "tiles/products",
        "tiles/checkouts", "tiles/segments", "tiles/../../api", "sync",
    ];

    private static readonly string[] Parameters = ["from", "to", "limit", "compare", "asOf", "months", "format", "tz", "range", "v", "FROM", "from[]"];

    internal enum StoreRef { Own, AnotherAccounts, Unknown, NotAGuid, Empty }

    internal sealed record Param(int Name, int Kind, int Days, string Junk);

    internal sealed record Case(int Path, StoreRef Store, string JunkStore, Param[] Query, int Accept, bool Htmx);

    /// <summary>Dates near today (in and out of the 731-day window), the calendar's ends, and junk.</summary>
    private static string Value(Param p, DateOnly today) => p.Kind switch
    {
        0 => today.AddDays(p.Days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        1 => (p.Days % 202).ToString(CultureInfo.InvariantCulture),
        2 => new[] { "previous", "year", "PREVIOUS", "csv", "json", "custom", "today", "month", "7", "90" }[Math.Abs(p.Days) % 10],
        3 => new[] { "0001-01-01", "9999-12-31", "1999-12-31", "2000-01-01", "2024-02-29", "2023-02-29", "2147483647", "-1" }[Math.Abs(p.Days) % 8],
        _ => p.Junk,
    };

    private static readonly Gen<Param> ParamGen = Gen.Select(Gen.Int[0, Parameters.Length - 1],
        Gen.Frequency((4, Gen.Const(0)), (2, Gen.Const(1)), (2, Gen.Const(2)), (2, Gen.Const(3)), (3, Gen.Const(4))),
        Gen.Int[-1500, 800], Junk.String, (n, k, d, j) => new Param(n, k, d, j));

    private static readonly Gen<Case> Cases = Gen.Select(Gen.Int[0, Paths.Length - 1],
        Gen.Frequency((8, Gen.Const(StoreRef.Own)), (1, Gen.Enum<StoreRef>())), Junk.HeaderValue, ParamGen.Array[0, 6], Gen.Int[0, 3], Gen.Bool,
        (p, s, j, q, a, h) => new Case(p, s, j, q, a, h));

    [Fact]
    public async Task any_metrics_query_gets_no_5xx_and_reading_writes_nothing()
    {
        var (_, token) = await fixture.RegisterAsync();
        var domain = $"metrics-bad-{Guid.NewGuid():N}"[..24] + ".myshopify.com";
        var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(ShopGenerator.Generate(seed: 9, orderCount: 150, new ShopGeneratorOptions { Domain = domain, Name = "Odd queries" }), shopToken);
        var own = await fixture.ConnectStoreAsync(token, domain, shopToken);
        await fixture.WaitForSyncAsync(token, own.Id);
        var (_, otherToken) = await fixture.RegisterAsync();
        var (otherDomain, otherShopToken) = fixture.NewShop();
        var other = await fixture.ConnectStoreAsync(otherToken, otherDomain, otherShopToken);
        await fixture.WaitForSyncAsync(otherToken, other.Id);
        await DatabaseFingerprint.WaitQuietAsync(fixture.OwnerConnectionString, [own.Id, other.Id]);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var outcomes = new Dictionary<string, int>();

        RawRequest Build(Case c)
        {
            var store = c.Store switch
            {
                StoreRef.Own => own.Id.ToString(),
                StoreRef.AnotherAccounts => other.Id.ToString(),
                StoreRef.Unknown => Guid.NewGuid().ToString(),
                StoreRef.NotAGuid => Uri.EscapeDataString(RequestBodies.Escape(c.JunkStore) is { Length: > 0 } e ? Uri.UnescapeDataString(e) : "x"),
                _ => Guid.Empty.ToString(),
            };
            var query = string.Join("&", c.Query.Select(p => Parameters[p.Name] + "=" + RequestBodies.Escape(Value(p, today))));
            var path = Paths[c.Path] switch
            {
                var m when m.StartsWith("metrics/") || m == "sync" => $"/api/v1/stores/{store}/{m}",
                var o when o.StartsWith('/') => o,
                "page" => $"/stores/{store}",
                var t => $"/stores/{store}/{t}",
            };
            var request = new RawRequest("GET", query.Length > 0 ? path + "?" + query : path);
            if (path.StartsWith("/api/")) request.With("Authorization", "Bearer " + token);
            else request.With("Cookie", "xeno_auth=" + token);
            request.With("Accept", new[] { null, "text/csv", "application/json", "*/*;q=0.1, text/csv;q=0.9" }[c.Accept]);
            if (c.Htmx) request.With("HX-Request", "true");
            return request;
        }

        await PropertyRun.RunAsync(Cases, async c =>
        {
            var request = Build(c);
            var before = await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, [own.Id, other.Id]);
            var response = await request.SendAsync(fixture);
            outcomes[response.Outcome] = outcomes.GetValueOrDefault(response.Outcome) + 1;
            if (response.Status >= 500) throw new Exception($"5xx: {response}");
            if (request.PathAndQuery.StartsWith("/api/") && response.Status is >= 400 and < 500 && !response.IsProblem)
                throw new Exception($"An API rejection without problem+json: {response}");
            (await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, [own.Id, other.Id])).ShouldEqual(before, $"A GET ({response.Status})");
        }, cases: 250, print: c => Build(c).ToString());
        output.WriteLine(string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} ×{o.Value}")));
    }
}
