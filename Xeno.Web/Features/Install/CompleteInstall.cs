using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Install;

/// <summary>
/// <c>GET /auth/shopify/callback</c>: Shopify sends the merchant back here with a code once they approved Xeno. Every
/// check comes before anything is stored: Shopify's HMAC on the query, the shop's form, a timestamp at most 90 seconds
/// old, and the state (issued here, unused, unexpired, to this browser, to this account, for this shop). Only then is
/// the code exchanged for an expiring access token and its refresh token, and the store created or brought back.
/// </summary>
public static class CompleteInstall
{
    public const string Path = "/auth/shopify/callback";
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(90);

    public static string? RedirectUri(IConfiguration config) =>
        config["App:PublicUrl"] is { Length: > 0 } url ? url.TrimEnd('/') + Path : null;

    public static async Task<IResult> HandleAsync(HttpContext http, [AsParameters] ConnectStore.Services s, IOptions<ShopifyOptions> options, CancellationToken ct)
    {
        var query = SinglePairs(http.Request.Query);
        if (query is null || !IsSignedByShopify(query, options.Value, s.Clock))
            return InstallProblem.NotFromShopify().ToResult(http);
        if (!ShopDomain.TryNormalize(http.Request.Query["shop"], out var domain))
            return InstallProblem.BadShop().ToResult(http);
        if (!long.TryParse(http.Request.Query["timestamp"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > 100_000_000_000 || (s.Clock.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > MaxAge)
            return Refused(StatusCodes.Status400BadRequest, "This install link is too old to use. Start the install again.", domain);
        if (http.Request.Query["code"].ToString() is not { Length: > 0 and <= 200 } code)
            return Refused(StatusCodes.Status400BadRequest, "Shopify sent no install code. Start the install again.", domain);

        var userId = http.User.UserId();
        if (await ConsumeStateAsync(http, s.Db, userId, domain, s.Clock, ct) is { } stateProblem)
            return Refused(StatusCodes.Status403Forbidden, stateProblem, domain);

        // Another account's shop: said before the code is spent. The HMAC proves Shopify just sent a member of the shop's
        // staff here, so this reveals nothing to a stranger.
        var owners = await s.Db.Stores.Where(x => x.ShopDomain == domain).SelectMany(x => x.Members).Select(m => m.UserId).ToListAsync(ct);
        if (owners.Count > 0 && !owners.Contains(userId))
            return Refused(StatusCodes.Status409Conflict, ConnectStore.TakenMessage, null);

        TokenGrant grant;
        try { grant = await s.OAuth.ExchangeCodeAsync(domain, code, ct); }
        catch (ShopifyGrantRefusedException)
        {
            return Refused(StatusCodes.Status400BadRequest, "Shopify refused this install code: it has been used or has expired. Start the install again.", domain);
        }
        catch (ShopifyApiException e) when (e.StatusCode == 404)
        {
            return Refused(StatusCodes.Status400BadRequest, ConnectStore.UnknownShop, null);
        }
        catch (Exception e) when (e is ShopifyApiException or HttpRequestException)
        {
            s.Logger.LogWarning("Exchanging the install code of {Shop} failed: {Error}", domain, e.Message);
            return Refused(StatusCodes.Status502BadGateway, ConnectStore.Unreachable, domain);
        }

        return await ConnectStore.ConnectAsync(userId, domain, new NewCredential(CredentialMethods.OAuth, grant), s, ct) switch
        {
            ConnectStore.Outcome.Connected c => Results.Redirect($"/stores/{c.Store.Id}"),
            ConnectStore.Outcome.TakenByAnotherAccount => Refused(StatusCodes.Status409Conflict, ConnectStore.TakenMessage, null),
            ConnectStore.Outcome.Refused r => Refused(StatusCodes.Status400BadRequest, r.Message, domain),
            ConnectStore.Outcome.ShopUnreachable u => Refused(StatusCodes.Status502BadGateway, u.Message, domain),
            _ => throw new InvalidOperationException("Unknown outcome."),
        };

        IResult Refused(int status, string message, string? retryShop) =>
            new InstallProblem(status, status == StatusCodes.Status409Conflict ? "Shop already connected" : "Install not completed", message, retryShop).ToResult(http);
    }

    /// <summary>Marks the state used, atomically, if it is this browser's and this account's, unexpired, for this shop;
    /// otherwise says why not (and leaves it alone).</summary>
    private static async Task<string?> ConsumeStateAsync(HttpContext http, XenoDb db, Guid userId, string domain, TimeProvider clock, CancellationToken ct)
    {
        var state = http.Request.Query["state"].ToString();
        var row = state.Length is > 0 and <= 200
            ? await db.OAuthStates.AsNoTracking().FirstOrDefaultAsync(x => x.StateHash == StartInstall.Hash(state), ct)
            : null;
        if (row is null) return "This install was not started from this Xeno. Start it again from your stores page.";
        if (row.UsedAt is not null) return "This install link has been used already. Start the install again.";
        var now = clock.GetUtcNow();
        if (row.ExpiresAt < now) return "This install took longer than ten minutes. Start it again.";
        var browser = http.Request.Cookies[StartInstall.BrowserCookie];
        if (browser is null || StartInstall.Hash(browser) != row.BrowserHash)
            return "This install was started in another browser. Finish it in the browser that started it, or start it again here.";
        if (row.UserId != userId) return "This install was started by another Xeno account. Log in as that account, or start it again.";
        if (row.ShopDomain != domain) return "Shopify came back for another shop than the one this install was started for. Start it again.";
        var claimed = await db.OAuthStates.Where(x => x.Id == row.Id && x.UsedAt == null).ExecuteUpdateAsync(x => x.SetProperty(r => r.UsedAt, now), ct);
        return claimed == 1 ? null : "This install link has been used already. Start the install again.";
    }

    /// <summary>The query as key/value pairs; null when a key repeats (Shopify never sends one twice, and a repeat
    /// could make two readers of the query disagree about what was signed).</summary>
    public static List<KeyValuePair<string, string>>? SinglePairs(IQueryCollection query)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var (key, values) in query)
        {
            if (values.Count != 1) return null;
            pairs.Add(new(key, values[0] ?? ""));
        }
        return pairs;
    }

    /// <summary>Signed with the app secret, or during a rotation with the previous one.</summary>
    public static bool IsSignedByShopify(List<KeyValuePair<string, string>> query, ShopifyOptions options, TimeProvider clock) =>
        options.AppSecrets(clock.GetUtcNow()).Any(secret => ShopifyQuerySignature.IsValid(query, secret));
}
