using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;
using Xeno.Web.Infrastructure.Shopify;

namespace Xeno.Web.Features.Sync;

/// <summary>
/// Fetches the lines and shipping of the refunds a sync learned by id and date only (a bulk file cannot hold them, and
/// an orders page asks for no more, to stay large): a page of refunds at a time with <c>nodes(ids:)</c>, sized to the
/// cost limit, following a refund's further lines where it has more than a page. Each page is stored in one transaction,
/// so a restarted sync goes on with the refunds still pending.
/// </summary>
public static class RefundDetails
{
    /// <returns>The refunds whose details were stored.</returns>
    public static async Task<int> FetchAsync(XenoDb db, ShopifyCredentials shopify, Guid storeId, CancellationToken ct)
    {
        var fetched = 0;
        while (true)
        {
            var ids = await db.Refunds.Where(r => r.DetailsPending).OrderBy(r => r.Id).Select(r => r.Id)
                .Take(ShopifyQueries.RefundDetailsPageSize).ToListAsync(ct);
            if (ids.Count == 0) return fetched;

            var data = await shopify.QueryAsync(storeId, ShopifyQueries.RefundDetails,
                new { ids = ids.Select(id => ShopifyIds.ToGid("Refund", id)).ToArray() }, ct);
            var batch = new OrderBatch();
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
            // A refund Shopify no longer returns (its order was deleted) has nothing more to fetch.
            var gone = ids.Except(batch.Refunds.Select(r => r.Id)).ToArray();
            await db.WriteAsync(storeId, async writer =>
            {
                await writer.WriteRefundDetailsAsync(batch, ct);
                if (gone.Length > 0)
                    await db.Refunds.Where(r => gone.Contains(r.Id)).ExecuteUpdateAsync(s => s.SetProperty(r => r.DetailsPending, false), ct);
            }, ct);
            fetched += batch.Refunds.Count;
        }
    }
}
