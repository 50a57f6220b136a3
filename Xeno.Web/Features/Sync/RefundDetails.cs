using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Sync;

/// <summary>
/// Fetches the lines and shipping of the refunds a sync learned by id and date only (a bulk file cannot hold them, and
/// an orders page asks for no more, to stay large): a page of refunds at a time with <c>nodes(ids:)</c>, sized to the
/// cost limit, following a refund's further lines where it has more than a page. Pages are stored together, up to
/// <see cref="WriteEvery"/> refunds or <see cref="WriteAfter"/> after the first one waiting: each write refreshes the
/// aggregates of the days and customers it touched, a cost that one page of twenty paid alone (at a million orders, most
/// of a second per page). A restarted sync goes on with the refunds still pending, fetching again at most what was
/// waiting to be written.
/// </summary>
public static class RefundDetails
{
    public const int WriteEvery = 200;
    public static readonly TimeSpan WriteAfter = TimeSpan.FromSeconds(2);

    /// <returns>The refunds whose details were stored.</returns>
    public static async Task<int> FetchAsync(XenoDb db, ShopifyCredentials shopify, Guid storeId, CancellationToken ct)
    {
        var fetched = 0;
        var after = long.MinValue;
        var batch = new OrderBatch();
        var asked = new List<long>();
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            // Pending refunds after the last one asked for: the ones fetched but not yet written are still pending.
            var ids = await db.Refunds.Where(r => r.DetailsPending && r.Id > after).OrderBy(r => r.Id).Select(r => r.Id)
                .Take(ShopifyQueries.RefundDetailsPageSize).ToListAsync(ct);
            if (ids.Count > 0)
            {
                if (asked.Count == 0) waiting.Restart();
                await FetchPageAsync(shopify, storeId, ids, batch, ct);
                asked.AddRange(ids);
                after = ids[^1];
            }
            if (asked.Count > 0 && (ids.Count == 0 || asked.Count >= WriteEvery || waiting.Elapsed >= WriteAfter))
            {
                await WriteAsync(db, storeId, batch, asked, ct);
                fetched += batch.Refunds.Count;
                batch = new OrderBatch();
                asked.Clear();
            }
            if (ids.Count == 0) return fetched;
        }
    }

    private static async Task FetchPageAsync(ShopifyCredentials shopify, Guid storeId, List<long> ids, OrderBatch batch, CancellationToken ct)
    {
        var data = await shopify.QueryAsync(storeId, ShopifyQueries.RefundDetails,
            new { ids = ids.Select(id => ShopifyIds.ToGid("Refund", id)).ToArray() }, ct);
        foreach (var node in (data["nodes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var refund = GraphQlMapping.RefundDetails(node, batch);
            var lines = node["refundLineItems"]?["pageInfo"];
            while (lines?["hasNextPage"]?.GetValue<bool>() == true || node["refundShippingLines"]?["pageInfo"]?["hasNextPage"]?.GetValue<bool>() == true)
            {
                // Rare: more lines, or more shipping lines, than the first page holds.
                var more = await shopify.QueryAsync(storeId, ShopifyQueries.RefundLineItems,
                    new { id = ShopifyIds.ToGid("Refund", refund.Id), after = lines?["endCursor"]?.GetValue<string>() }, ct);
                var page = more["node"];
                GraphQlMapping.RefundLines(refund, GraphQlMapping.Nodes(page?["refundLineItems"]), batch);
                refund.ShippingRefunded = GraphQlMapping.Nodes(page?["refundShippingLines"]).Sum(s => GraphQlMapping.Shop(s["subtotalAmountSet"]));
                refund.ShippingTaxRefunded = GraphQlMapping.Nodes(page?["refundShippingLines"]).Sum(s => GraphQlMapping.Shop(s["taxAmountSet"]));
                node["refundShippingLines"] = null;
                lines = page?["refundLineItems"]?["pageInfo"];
            }
        }
    }

    /// <summary>The fetched details, and the refunds Shopify no longer returns (their order was deleted: nothing more to
    /// fetch), in one transaction.</summary>
    private static async Task WriteAsync(XenoDb db, Guid storeId, OrderBatch batch, List<long> asked, CancellationToken ct)
    {
        var gone = asked.Except(batch.Refunds.Select(r => r.Id)).ToArray();
        await db.WriteAsync(storeId, async writer =>
        {
            await writer.WriteRefundDetailsAsync(batch, ct);
            if (gone.Length > 0)
                await db.Refunds.Where(r => gone.Contains(r.Id)).ExecuteUpdateAsync(s => s.SetProperty(r => r.DetailsPending, false), ct);
        }, ct);
    }
}
