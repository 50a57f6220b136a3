using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Ingestion;

/// <summary>What one page of Shopify data becomes, whichever way it arrived (GraphQL sync or webhook):
/// an order always travels with all of its lines and refunds, so it is replaced whole.</summary>
public sealed class OrderBatch
{
    public List<ShopOrder> Orders { get; } = [];
    public List<ShopOrderLine> Lines { get; } = [];
    public List<ShopRefund> Refunds { get; } = [];
    public List<ShopRefundLine> RefundLines { get; } = [];
}

public sealed class ProductBatch
{
    public List<ShopProduct> Products { get; } = [];
    public List<ShopProductVariant> Variants { get; } = [];
}

public static class ShopifyIds
{
    /// <summary><c>gid://shopify/Order/123</c> (or <c>…/123?key=…</c>) → 123.</summary>
    public static long FromGid(string gid)
    {
        var tail = gid[(gid.LastIndexOf('/') + 1)..];
        var query = tail.IndexOf('?');
        return long.Parse(query >= 0 ? tail[..query] : tail, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static string ToGid(string type, long id) => $"gid://shopify/{type}/{id}";
}
