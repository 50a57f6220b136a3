using CsCheck;
using Xeno.Web.Tests.Infrastructure;
using Xunit.Abstractions;
using static Xeno.Web.Tests.BadInput.RequestBodies;

namespace Xeno.Web.Tests.BadInput;

/// <summary>
/// <c>POST /api/v1/stores</c> with odd shop domains, tokens and client credentials, values of the wrong JSON type, and
/// bodies that are not JSON objects: never a 5xx; every rejection a problem+json 4xx that writes nothing (no store, no
/// member, no credential, no queued sync); a shop another account has is 409 whatever the caller sends with it.
/// </summary>
[Collection(XenoCollection.Name)]
public sealed class ConnectPropertyTests(XenoFixture fixture, ITestOutputHelper output)
{
    internal sealed record Case(Shape Shape, int ContentType, Field Domain, Field Token, Field ApiSecret, Field ClientId, Field ClientSecret);

    private static readonly Gen<Case> Cases = Gen.Select(ShapeGen, ContentTypeGen, FieldGen, FieldGen, FieldGen,
        Gen.Frequency((3, Gen.Const(new Field(FieldKind.Missing, 0, "", ""))), (1, FieldGen)),
        Gen.Frequency((3, Gen.Const(new Field(FieldKind.Missing, 0, "", ""))), (1, FieldGen)),
        (s, ct, d, t, a, id, secret) => new Case(s, ct, d, t, a, id, secret));

    [Fact]
    public async Task any_connect_request_gets_no_5xx_and_a_rejection_writes_nothing()
    {
        var (_, token) = await fixture.RegisterAsync();
        // A shop another account connected: the caller may hold its real token, and still gets 409 and nothing else.
        var (_, otherToken) = await fixture.RegisterAsync();
        var (takenDomain, takenShopToken) = fixture.NewShop("Taken");
        var taken = await fixture.ConnectStoreAsync(otherToken, takenDomain, takenShopToken);
        await fixture.WaitForSyncAsync(otherToken, taken.Id);
        var tenants = new List<Guid> { taken.Id };
        await DatabaseFingerprint.WaitQuietAsync(fixture.OwnerConnectionString, tenants);
        var outcomes = new Dictionary<string, int>();

        await PropertyRun.RunAsync(Cases, async c =>
        {
            var request = Build(c, token, takenDomain, takenShopToken);
            var before = await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, tenants);
            var response = await request.SendAsync(fixture);
            outcomes[response.Outcome] = outcomes.GetValueOrDefault(response.Outcome) + 1;
            if (response.Status >= 500) throw new Exception($"5xx: {response}");
            if (response.Status is 200 or 201)
            {
                // A plausible shop with its own token connected, however oddly its domain was written.
                // Its first sync runs in the background: the next case starts once it has ended and settled.
                var id = System.Text.Json.JsonDocument.Parse(response.Body).RootElement.GetProperty("id").GetGuid();
                tenants.Add(id);
                await fixture.WaitForSyncAsync(token, id);
                await DatabaseFingerprint.WaitQuietAsync(fixture.OwnerConnectionString, tenants);
                return;
            }
            if (response.Status is < 400 or >= 500 || !response.IsProblem) throw new Exception($"Not a problem+json 4xx: {response}");
            (await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, tenants)).ShouldEqual(before, $"A rejected connect ({response.Status})");
        }, cases: 150, print: c => Build(c, token, takenDomain, takenShopToken).ToString());
        output.WriteLine(string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} ×{o.Value}")));
    }

    private RawRequest Build(Case c, string token, string takenDomain, string takenShopToken)
    {
        // A fresh shop on the Shopify-compatible server for each case that could connect one, so that a success is new.
        var (freshDomain, freshToken) = c.Domain.Kind == FieldKind.Plausible && c.Domain.Pick % 8 < 3 ? fixture.NewShop("Fresh") : ("fresh.myshopify.com", "shpat_x");
        string[] domains =
        [
            freshDomain, " " + freshDomain.ToUpperInvariant() + " ", "https://" + freshDomain + "/", takenDomain, "https://" + takenDomain,
            "unknown-shop-0.myshopify.com", "shop.example.com", "-bad.myshopify.com",
        ];
        string[] tokens = [c.Domain.Pick % 8 >= 3 ? takenShopToken : freshToken, "shpat_" + new string('0', 32), "", new string('t', 513), " " + freshToken + " "];
        var body = Json(c.Shape,
        [
            ("shopDomain", c.Domain, domains), ("accessToken", c.Token, tokens), ("apiSecret", c.ApiSecret, ["", "shpss_secret", new string('s', 513)]),
            ("clientId", c.ClientId, [fixture.Shopify.State.DefaultApp.ClientId, "client-id"]), ("clientSecret", c.ClientSecret, ["secret", XenoFixture.WebhookSecret]),
        ]);
        return new RawRequest("POST", "/api/v1/stores", body, ContentTypes[c.ContentType] is { Length: > 0 } t ? t : null)
            .With("Authorization", "Bearer " + token);
    }
}
