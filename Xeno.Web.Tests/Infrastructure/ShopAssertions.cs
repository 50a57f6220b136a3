using System.Globalization;
using Npgsql;
using Xeno.ShopifyServer.Model;

namespace Xeno.Web.Tests.Infrastructure;

/// <summary>Compares what Xeno stored of a shop with the Shopify server's own records.</summary>
public static class ShopAssertions
{
    /// <summary>The sums every metric is built from, computed from the Shopify server's own records.</summary>
    public static string Expected(Shop shop)
    {
        var orders = shop.Orders;
        var lines = orders.SelectMany(o => o.LineItems).ToList();
        var refunds = orders.SelectMany(o => o.Refunds).ToList();
        var refundLines = refunds.SelectMany(r => r.RefundLineItems).ToList();
        var refundShipping = refunds.SelectMany(r => r.RefundShippingLines).ToList();
        return string.Join("|", new object[]
        {
            shop.Products.Count, shop.Customers.Count, orders.Count, lines.Count, refunds.Count, shop.AbandonedCheckouts.Count,
            orders.Count(o => o.Test), orders.Count(o => o.CancelledAt != null), orders.Count(o => o.Customer == null),
            orders.Sum(o => o.TotalPriceSet.ShopAmount), orders.Sum(o => o.TotalShippingPriceSet.ShopAmount),
            orders.Sum(o => o.TotalTaxSet.ShopAmount),
            lines.Sum(l => l.OriginalUnitPriceSet.ShopAmount * l.Quantity), lines.Sum(l => l.Quantity),
            lines.Sum(l => l.DiscountAllocations.Sum(d => d.AllocatedAmountSet.ShopAmount)),
            lines.Where(l => l.IsGiftCard).Sum(l => l.OriginalUnitPriceSet.ShopAmount * l.Quantity),
            refundLines.Sum(r => r.SubtotalSet.ShopAmount), refundLines.Sum(r => r.TotalTaxSet.ShopAmount), refundLines.Sum(r => r.Quantity),
            refundShipping.Sum(r => r.SubtotalAmountSet.ShopAmount), refundShipping.Sum(r => r.TaxAmountSet.ShopAmount),
            shop.AbandonedCheckouts.Sum(c => c.TotalPriceSet.ShopAmount), shop.AbandonedCheckouts.Count(c => c.CompletedAt != null),
            shop.Customers.Count(c => c.Statistics?.RfmGroup != null),
        }.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));
    }

    /// <summary>The same sums over what Xeno stored, read in SQL as the owner with the tenant set.</summary>
    public static Task<string> StoredAsync(XenoFixture fixture, Guid storeId) => StoredAsync(fixture.OwnerConnectionString, storeId);

    /// <summary>The same sums over what Xeno stored in the database <paramref name="ownerConnectionString"/> reaches.</summary>
    public static async Task<string> StoredAsync(string ownerConnectionString, Guid storeId)
    {
        await using var conn = new NpgsqlConnection(ownerConnectionString);
        await conn.OpenAsync();
        await using (var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", conn))
        {
            set.Parameters.AddWithValue("t", storeId.ToString());
            await set.ExecuteNonQueryAsync();
        }
        await using var cmd = new NpgsqlCommand("""
            WITH live AS (SELECT * FROM orders WHERE deleted_at IS NULL),
                 lines AS (SELECT l.* FROM order_lines l JOIN live o ON o.id = l.order_id),
                 live_refunds AS (SELECT r.* FROM refunds r JOIN live o ON o.id = r.order_id),
                 live_refund_lines AS (SELECT r.* FROM refund_lines r JOIN live o ON o.id = r.order_id),
                 live_checkouts AS (SELECT * FROM checkouts WHERE deleted_at IS NULL),
                 live_customers AS (SELECT * FROM customers WHERE deleted_at IS NULL)
            SELECT (SELECT count(*) FROM products WHERE deleted_at IS NULL), (SELECT count(*) FROM live_customers), (SELECT count(*) FROM live),
                   (SELECT count(*) FROM lines), (SELECT count(*) FROM live_refunds), (SELECT count(*) FROM live_checkouts),
                   (SELECT count(*) FROM live WHERE test), (SELECT count(*) FROM live WHERE cancelled_at IS NOT NULL),
                   (SELECT count(*) FROM live WHERE customer_id IS NULL),
                   (SELECT coalesce(sum(total_price), 0) FROM live), (SELECT coalesce(sum(shipping_price), 0) FROM live),
                   (SELECT coalesce(sum(total_tax), 0) FROM live),
                   (SELECT coalesce(sum(original_unit_price * quantity), 0) FROM lines), (SELECT coalesce(sum(quantity), 0) FROM lines),
                   (SELECT coalesce(sum(discount_allocated), 0) FROM lines),
                   (SELECT coalesce(sum(original_unit_price * quantity), 0) FROM lines WHERE is_gift_card),
                   (SELECT coalesce(sum(subtotal), 0) FROM live_refund_lines), (SELECT coalesce(sum(total_tax), 0) FROM live_refund_lines),
                   (SELECT coalesce(sum(quantity), 0) FROM live_refund_lines),
                   (SELECT coalesce(sum(shipping_refunded), 0) FROM live_refunds), (SELECT coalesce(sum(shipping_tax_refunded), 0) FROM live_refunds),
                   (SELECT coalesce(sum(total_price), 0) FROM live_checkouts), (SELECT count(*) FROM live_checkouts WHERE completed_at IS NOT NULL),
                   (SELECT count(*) FROM live_customers WHERE rfm_group IS NOT NULL)
            """, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return string.Join("|", Enumerable.Range(0, reader.FieldCount)
            .Select(i => reader.GetValue(i) switch { decimal d => d.ToString(CultureInfo.InvariantCulture), var v => Convert.ToString(v, CultureInfo.InvariantCulture) }));
    }

}
