using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Xeno.ShopifyServer.Model;

namespace Xeno.Bench;

internal sealed record RawCopyResult(int Orders, int Lines, int Refunds, int RefundLines, TimeSpan Elapsed)
{
    public double OrdersPerSecond => Orders / Elapsed.TotalSeconds;
    public int Rows => Orders + Lines + Refunds + RefundLines;
}

/// <summary>
/// This machine's limit for writing a shop's orders: a binary COPY (Npgsql <c>BeginBinaryImport</c>) of the shop's
/// orders, order lines, refunds and refund lines, with the values Xeno stores, from memory (made before the clock
/// starts) into Xeno's own tables (same indexes, same durability), for a scratch store row of its own, in one
/// transaction: timed from the first row sent to the commit. COPY FROM is refused on tables under row-level security,
/// so it runs as the cluster's superuser. The scratch store is deleted afterwards and the four tables vacuumed, so the
/// backfill that follows finds them as the COPY did.
/// </summary>
internal static class RawCopy
{
    private sealed record OrderRow(long Id, string Name, long? CustomerId, DateTime ProcessedAt, DateTime CreatedAt, DateTime? CancelledAt, bool Test,
        string Currency, string Presentment, decimal Total, decimal Current, decimal TotalPresentment, decimal Shipping, decimal Tax, decimal Discounts, DateTime Updated);
    private sealed record LineRow(long Id, long OrderId, long? ProductId, long? VariantId, string Title, int Quantity, decimal Price, decimal Discount, bool GiftCard);
    private sealed record RefundRow(long Id, long OrderId, DateTime CreatedAt, decimal Shipping, decimal ShippingTax);
    private sealed record RefundLineRow(long RefundId, long LineId, long OrderId, int Quantity, decimal Subtotal, decimal Tax);

    public static async Task<RawCopyResult> RunAsync(BenchEnvironment env, Shop shop, CancellationToken ct)
    {
        // The rows first, off the clock.
        var orders = new List<OrderRow>();
        var lines = new List<LineRow>();
        var refunds = new List<RefundRow>();
        var refundLines = new List<RefundLineRow>();
        foreach (var o in shop.Orders)
        {
            orders.Add(new OrderRow(o.Id, o.Name, o.Customer?.Id, o.ProcessedAt.UtcDateTime, o.CreatedAt.UtcDateTime, o.CancelledAt?.UtcDateTime, o.Test,
                o.CurrencyCode, o.PresentmentCurrencyCode, o.TotalPriceSet.ShopAmount, o.CurrentTotalPriceSet.ShopAmount, o.TotalPriceSet.PresentmentAmount,
                o.TotalShippingPriceSet.ShopAmount, o.TotalTaxSet.ShopAmount, o.TotalDiscountsSet.ShopAmount, o.UpdatedAt.UtcDateTime));
            foreach (var l in o.LineItems)
                lines.Add(new LineRow(l.Id, o.Id, l.Product?.Id, l.Variant?.Id, l.Title, l.Quantity, l.OriginalUnitPriceSet.ShopAmount,
                    l.TotalDiscountSet.ShopAmount, l.IsGiftCard));
            foreach (var r in o.Refunds)
            {
                refunds.Add(new RefundRow(r.Id, o.Id, r.CreatedAt.UtcDateTime, r.RefundShippingLines.Sum(s => s.SubtotalAmountSet.ShopAmount),
                    r.RefundShippingLines.Sum(s => s.TaxAmountSet.ShopAmount)));
                foreach (var rl in r.RefundLineItems)
                    refundLines.Add(new RefundLineRow(r.Id, rl.LineItem.Id, o.Id, rl.Quantity, rl.Subtotal, rl.TotalTax));
            }
        }

        var scratch = Guid.CreateVersion7();
        await using var conn = new NpgsqlConnection(env.SuperuserConnectionString);
        await conn.OpenAsync(ct);
        // Aggregates marked as built, so that Xeno's minutely job leaves the scratch store alone.
        await Exec(conn, $"""
            INSERT INTO stores (id, shop_domain, name, currency, timezone, status, connected_at, aggregates_timezone, windows_day)
            VALUES ('{scratch}', 'bench-scratch-{scratch:N}.myshopify.com', 'raw COPY scratch', 'USD', '{shop.IanaTimezone}', 'Active', now(),
                    '{shop.IanaTimezone}', (now() AT TIME ZONE '{shop.IanaTimezone}')::date)
            """, ct);
        try
        {
            var clock = Stopwatch.StartNew();
            await using (var tx = await conn.BeginTransactionAsync(ct))
            {
                await using (var w = await conn.BeginBinaryImportAsync("""
                    COPY orders (tenant_id, id, name, customer_id, processed_at, created_at, cancelled_at, test, currency, presentment_currency,
                      total_price, current_total_price, total_price_presentment, shipping_price, total_tax, total_discounts, shopify_updated_at)
                    FROM STDIN (FORMAT BINARY)
                    """, ct))
                {
                    foreach (var o in orders)
                    {
                        w.StartRow();
                        w.Write(scratch, NpgsqlDbType.Uuid); w.Write(o.Id, NpgsqlDbType.Bigint); w.Write(o.Name, NpgsqlDbType.Text);
                        Nullable(w, o.CustomerId, NpgsqlDbType.Bigint); w.Write(o.ProcessedAt, NpgsqlDbType.TimestampTz);
                        w.Write(o.CreatedAt, NpgsqlDbType.TimestampTz); Nullable(w, o.CancelledAt, NpgsqlDbType.TimestampTz);
                        w.Write(o.Test, NpgsqlDbType.Boolean); w.Write(o.Currency, NpgsqlDbType.Text); w.Write(o.Presentment, NpgsqlDbType.Text);
                        w.Write(o.Total, NpgsqlDbType.Numeric); w.Write(o.Current, NpgsqlDbType.Numeric); w.Write(o.TotalPresentment, NpgsqlDbType.Numeric);
                        w.Write(o.Shipping, NpgsqlDbType.Numeric); w.Write(o.Tax, NpgsqlDbType.Numeric); w.Write(o.Discounts, NpgsqlDbType.Numeric);
                        w.Write(o.Updated, NpgsqlDbType.TimestampTz);
                    }
                    await w.CompleteAsync(ct);
                }
                await using (var w = await conn.BeginBinaryImportAsync("""
                    COPY order_lines (tenant_id, id, order_id, product_id, variant_id, title, quantity, original_unit_price, discount_allocated, is_gift_card)
                    FROM STDIN (FORMAT BINARY)
                    """, ct))
                {
                    foreach (var l in lines)
                    {
                        w.StartRow();
                        w.Write(scratch, NpgsqlDbType.Uuid); w.Write(l.Id, NpgsqlDbType.Bigint); w.Write(l.OrderId, NpgsqlDbType.Bigint);
                        Nullable(w, l.ProductId, NpgsqlDbType.Bigint); Nullable(w, l.VariantId, NpgsqlDbType.Bigint); w.Write(l.Title, NpgsqlDbType.Text);
                        w.Write(l.Quantity, NpgsqlDbType.Integer); w.Write(l.Price, NpgsqlDbType.Numeric); w.Write(l.Discount, NpgsqlDbType.Numeric);
                        w.Write(l.GiftCard, NpgsqlDbType.Boolean);
                    }
                    await w.CompleteAsync(ct);
                }
                await using (var w = await conn.BeginBinaryImportAsync("""
                    COPY refunds (tenant_id, id, order_id, created_at, shipping_refunded, shipping_tax_refunded, details_pending) FROM STDIN (FORMAT BINARY)
                    """, ct))
                {
                    foreach (var r in refunds)
                    {
                        w.StartRow();
                        w.Write(scratch, NpgsqlDbType.Uuid); w.Write(r.Id, NpgsqlDbType.Bigint); w.Write(r.OrderId, NpgsqlDbType.Bigint);
                        w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz); w.Write(r.Shipping, NpgsqlDbType.Numeric); w.Write(r.ShippingTax, NpgsqlDbType.Numeric);
                        w.Write(false, NpgsqlDbType.Boolean);
                    }
                    await w.CompleteAsync(ct);
                }
                await using (var w = await conn.BeginBinaryImportAsync("""
                    COPY refund_lines (tenant_id, refund_id, line_item_id, order_id, quantity, subtotal, total_tax) FROM STDIN (FORMAT BINARY)
                    """, ct))
                {
                    foreach (var r in refundLines)
                    {
                        w.StartRow();
                        w.Write(scratch, NpgsqlDbType.Uuid); w.Write(r.RefundId, NpgsqlDbType.Bigint); w.Write(r.LineId, NpgsqlDbType.Bigint);
                        w.Write(r.OrderId, NpgsqlDbType.Bigint); w.Write(r.Quantity, NpgsqlDbType.Integer); w.Write(r.Subtotal, NpgsqlDbType.Numeric);
                        w.Write(r.Tax, NpgsqlDbType.Numeric);
                    }
                    await w.CompleteAsync(ct);
                }
                await tx.CommitAsync(ct);
            }
            var elapsed = clock.Elapsed;
            return new RawCopyResult(orders.Count, lines.Count, refunds.Count, refundLines.Count, elapsed);
        }
        finally
        {
            // The scratch rows go (the tenant tables cascade from the store), and the tables are vacuumed.
            await Exec(conn, $"DELETE FROM stores WHERE id = '{scratch}'", CancellationToken.None);
            await Exec(conn, "VACUUM orders, order_lines, refunds, refund_lines", CancellationToken.None);
        }
    }

    private static void Nullable<T>(NpgsqlBinaryImporter w, T? value, NpgsqlDbType type) where T : struct
    {
        if (value is { } v) w.Write(v, type);
        else w.WriteNull();
    }

    private static async Task Exec(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 1800 };
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
