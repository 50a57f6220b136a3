using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Xunit.Abstractions;
using Xeno.Web.Tests.Infrastructure;
using static Xeno.Web.Tests.BadInput.WebhookBodies;

namespace Xeno.Web.Tests.BadInput;

/// <summary>
/// Webhook deliveries with every header and body Shopify never sends. Whatever arrives: never a 5xx; a rejection is a
/// 4xx problem and writes nothing; a delivery Xeno accepts for a connected shop is stored once and then either applied
/// or marked failed with none of its writes kept; and whatever was applied, the store's metrics and dashboard still answer.
/// </summary>
[Collection(XenoCollection.Name)]
public sealed class WebhookPropertyTests(XenoFixture fixture, ITestOutputHelper output)
{
    internal enum Signature { Valid, ValidWithPreviousSecret, Missing, Empty, WrongSecret, NotBase64, ForAnotherBody, HexEncoded }
    internal enum ShopHeader { Connected, ConnectedInCapitals, ConnectedAsUrl, Unknown, Missing, Junk }
    internal enum TopicHeader { OfTheBody, AnotherHandled, Missing, Junk, InCapitalsWithSpaces }
    internal enum IdHeader { Fresh, Missing, Repeated, Junk }

    internal sealed record Case(
        int Fixture, TopicHeader Topic, int OtherTopic, string JunkTopic, ShopHeader Shop, string JunkShop, Signature Signature,
        IdHeader EventId, IdHeader WebhookId, int RepeatOf, string JunkId, int TriggeredAt, string JunkHeader, long FreshId,
        Mutation[] Mutations, RawDamage Damage, int DamageAt);

    private static readonly Gen<IdHeader> Ids = Gen.Frequency((8, Gen.Const(IdHeader.Fresh)), (1, Gen.Enum<IdHeader>()));

    private static readonly Gen<Case> Cases =
        Gen.Select(
            Gen.Select(Gen.Int[0, Topics.Length - 1], Gen.Frequency((8, Gen.Const(TopicHeader.OfTheBody)), (1, Gen.Enum<TopicHeader>())), Gen.Int[0, Topics.Length - 1], Junk.HeaderValue,
                Gen.Frequency((10, Gen.Const(ShopHeader.Connected)), (1, Gen.Enum<ShopHeader>())), Junk.HeaderValue),
            Gen.Select(Gen.Frequency((8, Gen.Const(Signature.Valid)), (2, Gen.Enum<Signature>())),
                Ids, Ids, Gen.Int[0, 3], Junk.HeaderValue, Gen.Int[0, 2], Junk.HeaderValue),
            Gen.Select(Gen.Long[1, 9_007_199_254_740_992], MutationGen.Array[0, 4],
                Gen.Frequency((24, Gen.Const(RawDamage.None)), (8, Gen.Enum<RawDamage>().Where(d => d != RawDamage.OverFiveMiB)),
                    (1, Gen.Const(RawDamage.OverFiveMiB))), Gen.Int[0, 100_000]),
            (a, b, c) => new Case(a.Item1, a.Item2, a.Item3, a.Item4, a.Item5, a.Item6, b.Item1, b.Item2, b.Item3, b.Item4, b.Item5,
                b.Item6, b.Item7, c.Item1, c.Item2, c.Item3, c.Item4));

    private sealed class Target
    {
        public required Guid StoreId { get; init; }
        public required string Domain { get; init; }
        public required string Token { get; init; }
        /// <summary>Event and webhook ids of deliveries stored for this store: a repeat of one is answered 200 and stores nothing.</summary>
        public HashSet<string> SeenIds { get; } = [];
    }

    private sealed record Built(RawRequest Request, string Description, bool Authentic, bool Huge, bool Json, int Depth, string? ShopDomain,
        string Topic, string? EventId, string? WebhookId);

    private static Built Build(Case c, Target target, DateTimeOffset now)
    {
        var (topic, fixtureFile) = Topics[c.Fixture];
        var (body, description) = WebhookBodies.Build(fixtureFile, c.FreshId, now, c.Mutations, c.Damage, c.DamageAt);
        var request = new RawRequest("POST", "/webhooks/shopify", body, "application/json");

        var topicHeader = c.Topic switch
        {
            TopicHeader.OfTheBody => topic,
            TopicHeader.AnotherHandled => Topics[c.OtherTopic].Topic,
            TopicHeader.Missing => null,
            TopicHeader.Junk => c.JunkTopic,
            _ => "  " + topic.ToUpperInvariant() + " ",
        };
        // shop/redact is sent too: Xeno records it and erases nothing, since the store was not uninstalled 48 hours ago.
        request.With("X-Shopify-Topic", topicHeader);

        var unknown = $"unknown-{c.FreshId % 1000}.myshopify.com";
        var shop = c.Shop switch
        {
            ShopHeader.Connected => target.Domain,
            ShopHeader.ConnectedInCapitals => " " + target.Domain.ToUpperInvariant() + " ",
            ShopHeader.ConnectedAsUrl => "https://" + target.Domain + "/",
            ShopHeader.Unknown => unknown,
            ShopHeader.Missing => null,
            _ => c.JunkShop,
        };
        request.With("X-Shopify-Shop-Domain", shop);

        var signed = c.Signature == Signature.ValidWithPreviousSecret ? XenoFixture.PreviousWebhookSecret : XenoFixture.WebhookSecret;
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(c.Signature == Signature.WrongSecret ? "not-the-secret" : signed),
            c.Signature == Signature.ForAnotherBody ? [.. body, (byte)' '] : body);
        request.With("X-Shopify-Hmac-Sha256", c.Signature switch
        {
            Signature.Missing => null,
            Signature.Empty => "",
            Signature.NotBase64 => c.JunkHeader + "!",
            Signature.HexEncoded => Convert.ToHexString(mac),
            _ => Convert.ToBase64String(mac),
        });

        string? Id(IdHeader kind, string prefix) => kind switch
        {
            IdHeader.Fresh => Guid.NewGuid().ToString(),
            IdHeader.Missing => null,
            IdHeader.Repeated => $"{prefix}-repeated-{c.RepeatOf}",
            _ => c.JunkId,
        };
        var eventId = Id(c.EventId, "event");
        var webhookId = Id(c.WebhookId, "webhook");
        request.With("X-Shopify-Event-Id", eventId).With("X-Shopify-Webhook-Id", webhookId);
        request.With("X-Shopify-Triggered-At", c.TriggeredAt switch { 0 => now.ToString("O"), 1 => null, _ => c.JunkHeader });
        request.With("X-Shopify-API-Version", c.TriggeredAt == 2 ? c.JunkHeader : "2026-10");

        var json = IsJson(body, out var depth);
        var authentic = c.Signature is Signature.Valid or Signature.ValidWithPreviousSecret;
        var domain = c.Shop is ShopHeader.Connected or ShopHeader.ConnectedInCapitals or ShopHeader.ConnectedAsUrl ? target.Domain
            : c.Shop == ShopHeader.Unknown ? unknown : null;
        // Xeno keeps an id of 1 to 200 characters as the delivery's; longer or empty ones are not kept.
        static string? Kept(string? id) => id is { Length: > 0 and <= 200 } ? id : null;
        return new Built(request, description, authentic, body.Length > 5 * 1024 * 1024, json, depth, domain,
            topicHeader?.Trim().ToLowerInvariant() ?? "", Kept(eventId), Kept(webhookId));
    }

    [Fact]
    public async Task any_webhook_delivery_gets_no_5xx_and_is_stored_whole_or_not_at_all()
    {
        var target = await ConnectAsync();
        var now = DateTimeOffset.UtcNow;
        var sent = 0;
        await PropertyRun.RunAsync(Cases, async c =>
        {
            var built = Build(c, target, now);
            await CheckAsync(built, target);
            sent++;
        }, cases: 200, print: c => Build(c, target, now) is var b ? $"{b.Description}\n{b.Request}" : "");
        output.WriteLine($"{sent} deliveries: " + string.Join(", ", _outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} ×{o.Value}")));
        Assert.True(sent > 0);
    }

    private readonly Dictionary<string, int> _outcomes = [];

    private void Tally(string outcome) => _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;

    private async Task CheckAsync(Built built, Target target)
    {
        var tenants = new[] { target.StoreId };
        var before = await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, tenants);
        var stored = await CountAsync(target.StoreId, "SELECT count(*) FROM webhook_deliveries");
        var response = await built.Request.SendAsync(fixture);

        if (response.Status >= 500) throw new Exception($"5xx: {response}");
        Tally(response.Outcome);
        if (built.Huge && response.Status != 413) throw new Exception($"A body over 5 MiB was answered {response}");
        if (!built.Huge && !built.Authentic && response.Status != 401) throw new Exception($"A delivery without a valid HMAC was answered {response}");
        if (built.Authentic && !built.Huge && !built.Json && response.Status != 400) throw new Exception($"A body that is not JSON was answered {response}");
        if (response.Status is >= 400 and < 500)
        {
            if (!response.IsProblem) throw new Exception($"A rejection without problem+json: {response}");
            (await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, tenants)).ShouldEqual(before, $"A rejected delivery ({response.Status})");
            return;
        }
        if (response.Status != 200) throw new Exception($"Not one of the statuses API.md gives a webhook: {response}");
        if (built.Depth > 64 == false && built.Json && built.Topic.Length is > 0 and <= 100 && built.ShopDomain is null)
            throw new Exception($"A delivery whose X-Shopify-Shop-Domain is not a shop was answered {response}");
        if (built.ShopDomain != target.Domain)
        {
            (await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, tenants)).ShouldEqual(before, "A delivery for a shop no account connected");
            return;
        }

        // Accepted for the connected store: stored once (unless its event or webhook id was seen), then applied or failed whole.
        var repeat = built.EventId is { } e && target.SeenIds.Contains("e:" + e) || built.WebhookId is { } w && target.SeenIds.Contains("w:" + w);
        var added = await CountAsync(target.StoreId, "SELECT count(*) FROM webhook_deliveries") - stored;
        // Another shop's body sent under this shop's name (a mutated shop_domain) is recorded for the operator as
        // ignored, without its body and without its ids: whoever sent it chose them, so they neither count as a repeat
        // nor make the real delivery that carries them one.
        var newest = added == 1 ? await NewestAsync(target.StoreId) : null;
        var recordedWithoutIds = newest is { Status: "ignored", EventId: null, WebhookId: null, HasBody: false }
            && newest.Reason?.Contains("shop", StringComparison.OrdinalIgnoreCase) == true;
        if (recordedWithoutIds)
        {
            Tally("recorded as another shop's body");
            (await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, tenants)).ShouldEqual(before, "Another shop's body", "webhook_deliveries");
            return;
        }
        if (added != (repeat ? 0 : 1))
            throw new Exception($"Expected {(repeat ? "no new delivery (a repeated id)" : "one stored delivery")}, found {added}. Stored: {await ListAsync(target.StoreId)}");
        if (repeat)
        {
            Tally("repeat");
            (await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, tenants)).ShouldEqual(before, "A repeated delivery");
            return;
        }
        if (built.EventId is { } ev) target.SeenIds.Add("e:" + ev);
        if (built.WebhookId is { } wh) target.SeenIds.Add("w:" + wh);

        await WaitAsync(async () => await CountAsync(target.StoreId, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") == 0,
            "the delivery to be processed");
        var status = (string?)await fixture.ScalarAsync(target.StoreId, "SELECT status FROM webhook_deliveries ORDER BY received_at DESC, id DESC LIMIT 1");
        Tally("stored " + status);
        if (status == "failed")
        {
            // Nothing of a failed delivery is kept but the delivery itself (its count checked above).
            (await DatabaseFingerprint.TakeAsync(fixture.OwnerConnectionString, tenants)).ShouldEqual(before, "A delivery that failed", "webhook_deliveries");
        }
        else if (status is not ("processed" or "ignored")) throw new Exception($"The delivery ended as '{status}'.");
        else await MetricsStillAnswerAsync(target);
    }

    /// <summary>Whatever a delivery applied, every metric and the dashboard still answer without a 5xx.</summary>
    private async Task MetricsStillAnswerAsync(Target target)
    {
        foreach (var path in new[] { "summary", "daily", "top-customers", "products", "checkouts", "segments" })
        {
            var response = await new RawRequest("GET", $"/api/v1/stores/{target.StoreId}/metrics/{path}")
                .With("Authorization", "Bearer " + target.Token).SendAsync(fixture);
            if (response.Status >= 500) throw new Exception($"After the delivery was applied, GET metrics/{path}: {response}");
        }
        var page = await new RawRequest("GET", $"/stores/{target.StoreId}?range=90").With("Cookie", "xeno_auth=" + target.Token).SendAsync(fixture);
        if (page.Status >= 500) throw new Exception($"After the delivery was applied, the dashboard: {page}");
    }

    private async Task<Target> ConnectAsync()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        await fixture.WaitForSyncAsync(token, store.Id);
        await DatabaseFingerprint.WaitQuietAsync(fixture.OwnerConnectionString, [store.Id]);
        return new Target { StoreId = store.Id, Domain = domain, Token = token };
    }

    private sealed record Stored(string Status, string? EventId, string? WebhookId, bool HasBody, string? Reason);

    // Read through the fixture, which sets the store's tenant: row-level security applies to the owner too.
    private async Task<Stored?> NewestAsync(Guid storeId)
    {
        var json = (string?)await fixture.ScalarAsync(storeId, """
            SELECT json_build_object('status', status, 'event', event_id, 'webhook', webhook_id, 'body', body IS NOT NULL, 'reason', ignored_reason)::text
            FROM webhook_deliveries ORDER BY received_at DESC, id DESC LIMIT 1
            """);
        if (json is null) return null;
        var row = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        return new Stored((string)row["status"]!, (string?)row["event"], (string?)row["webhook"], (bool)row["body"]!, (string?)row["reason"]);
    }

    private async Task<string> ListAsync(Guid storeId) => "\n" + (string?)await fixture.ScalarAsync(storeId, """
        SELECT string_agg(topic || ' e=' || coalesce(event_id, '-') || ' w=' || coalesce(webhook_id, '-') || ' ' || status || ' ' || coalesce(ignored_reason, ''),
                          E'\n' ORDER BY received_at, id)
        FROM webhook_deliveries
        """);

    private async Task<long> CountAsync(Guid storeId, string sql) => Convert.ToInt64(await fixture.ScalarAsync(storeId, sql));

    private static async Task WaitAsync(Func<Task<bool>> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Still waiting for {what}.");
            await Task.Delay(20);
        }
    }
}
