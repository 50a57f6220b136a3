using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Ingestion;

/// <summary>
/// Writes batches of Shopify rows as set-based upserts: each table gets one statement per batch,
/// its rows passed as arrays and expanded with unnest, so a page costs a few round trips whatever
/// its size. A row whose stored version is newer (by Shopify's updatedAt) is left as it is, so late
/// or repeated data never overwrites newer data, and writing the same batch twice changes nothing.
/// </summary>
public sealed class ShopDataWriter(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId)
{
    /// <summary>What these writes touched (old values included), for <see cref="FinishAsync"/> to bring the aggregates up to date.</summary>
    public AffectedData Affected { get; } = new();

    public async Task<int> UpsertProductsAsync(ProductBatch batch, CancellationToken ct)
    {
        var p = batch.Products;
        if (p.Count == 0) return 0;
        var accepted = await ReadIdsAsync(Command("""
            INSERT INTO products (tenant_id, id, title, status, created_at, shopify_updated_at)
            SELECT @tenant, * FROM unnest(@id, @title, @status, @created, @updated)
            ON CONFLICT (tenant_id, id) DO UPDATE SET
              title = excluded.title, status = excluded.status, created_at = excluded.created_at,
              shopify_updated_at = excluded.shopify_updated_at
            WHERE products.shopify_updated_at <= excluded.shopify_updated_at
            RETURNING id
            """,
            ("id", p.Select(x => x.Id).ToArray(), NpgsqlDbType.Bigint),
            ("title", p.Select(x => x.Title).ToArray(), NpgsqlDbType.Text),
            ("status", p.Select(x => x.Status).ToArray(), NpgsqlDbType.Text),
            ("created", p.Select(x => Utc(x.CreatedAt)).ToArray(), NpgsqlDbType.TimestampTz),
            ("updated", p.Select(x => Utc(x.ShopifyUpdatedAt)).ToArray(), NpgsqlDbType.TimestampTz)), ct);

        var variants = batch.Variants.Where(v => accepted.Contains(v.ProductId)).ToList();
        await using var children = new NpgsqlBatch(connection, transaction);
        children.BatchCommands.Add(BatchCommand("DELETE FROM product_variants WHERE tenant_id = @tenant AND product_id = ANY(@ids)",
            ("ids", accepted.ToArray(), NpgsqlDbType.Bigint)));
        children.BatchCommands.Add(BatchCommand("""
            INSERT INTO product_variants (tenant_id, id, product_id, title, sku, price)
            SELECT @tenant, * FROM unnest(@id, @product, @title, @sku, @price)
            ON CONFLICT (tenant_id, id) DO UPDATE SET product_id = excluded.product_id, title = excluded.title, sku = excluded.sku, price = excluded.price
            """,
            ("id", variants.Select(x => x.Id).ToArray(), NpgsqlDbType.Bigint),
            ("product", variants.Select(x => x.ProductId).ToArray(), NpgsqlDbType.Bigint),
            ("title", variants.Select(x => x.Title).ToArray(), NpgsqlDbType.Text),
            ("sku", variants.Select(x => x.Sku).ToArray(), NpgsqlDbType.Text),
            ("price", variants.Select(x => x.Price).ToArray(), NpgsqlDbType.Numeric)));
        await children.ExecuteNonQueryAsync(ct);
        return accepted.Count;
    }

    public async Task<int> UpsertCustomersAsync(IReadOnlyList<ShopCustomer> c, CancellationToken ct)
    {
        if (c.Count == 0) return 0;
        // A redacted customer keeps no personal data, whatever a later sync brings. The old row is read in the same
        // statement (one snapshot), so that the aggregates learn what each accepted row was before.
        await using var command = Command("""
            WITH old AS (SELECT id, created_at, rfm_group, deleted_at FROM customers WHERE tenant_id = @tenant AND id = ANY(@id)),
            up AS (
              INSERT INTO customers (tenant_id, id, first_name, last_name, email, phone, rfm_group, created_at, shopify_updated_at)
              SELECT @tenant, * FROM unnest(@id, @first, @last, @email, @phone, @rfm, @created, @updated)
              ON CONFLICT (tenant_id, id) DO UPDATE SET
                first_name = CASE WHEN customers.redacted_at IS NULL THEN excluded.first_name END,
                last_name = CASE WHEN customers.redacted_at IS NULL THEN excluded.last_name END,
                email = CASE WHEN customers.redacted_at IS NULL THEN excluded.email END,
                phone = CASE WHEN customers.redacted_at IS NULL THEN excluded.phone END,
                rfm_group = COALESCE(excluded.rfm_group, customers.rfm_group), created_at = excluded.created_at, shopify_updated_at = excluded.shopify_updated_at
              WHERE customers.shopify_updated_at <= excluded.shopify_updated_at
              RETURNING id, created_at, rfm_group, deleted_at)
            SELECT up.id, old.created_at, CASE WHEN old.deleted_at IS NULL THEN old.rfm_group END,
                   up.created_at, CASE WHEN up.deleted_at IS NULL THEN up.rfm_group END
            FROM up LEFT JOIN old USING (id)
            """,
            ("id", c.Select(x => x.Id).ToArray(), NpgsqlDbType.Bigint),
            ("first", c.Select(x => x.FirstName).ToArray(), NpgsqlDbType.Text),
            ("last", c.Select(x => x.LastName).ToArray(), NpgsqlDbType.Text),
            ("email", c.Select(x => x.Email).ToArray(), NpgsqlDbType.Text),
            ("phone", c.Select(x => x.Phone).ToArray(), NpgsqlDbType.Text),
            ("rfm", c.Select(x => x.RfmGroup).ToArray(), NpgsqlDbType.Text),
            ("created", c.Select(x => Utc(x.CreatedAt)).ToArray(), NpgsqlDbType.TimestampTz),
            ("updated", c.Select(x => Utc(x.ShopifyUpdatedAt)).ToArray(), NpgsqlDbType.TimestampTz));
        var accepted = 0;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            accepted++;
            Affected.Instant(NullableTime(reader, 1));
            Affected.Instant(NullableTime(reader, 3));
            Affected.Group(reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(4) ? null : reader.GetString(4));
        }
        return accepted;
    }

    public async Task<int> UpsertCheckoutsAsync(IReadOnlyList<ShopCheckout> c, CancellationToken ct)
    {
        if (c.Count == 0) return 0;
        var accepted = await ReadIdsAsync(Command("""
            WITH old AS (SELECT id, created_at FROM checkouts WHERE tenant_id = @tenant AND id = ANY(@id)),
            up AS (
              INSERT INTO checkouts (tenant_id, id, token, customer_id, created_at, completed_at, total_price, shopify_updated_at)
              SELECT @tenant, * FROM unnest(@id, @token, @customer, @created, @completed, @total, @updated)
              ON CONFLICT (tenant_id, id) DO UPDATE SET
                token = COALESCE(excluded.token, checkouts.token), customer_id = excluded.customer_id,
                created_at = excluded.created_at, completed_at = COALESCE(excluded.completed_at, checkouts.completed_at),
                total_price = excluded.total_price, shopify_updated_at = excluded.shopify_updated_at
              WHERE checkouts.shopify_updated_at <= excluded.shopify_updated_at
              RETURNING id, created_at)
            SELECT up.id, up.created_at, old.created_at FROM up LEFT JOIN old USING (id)
            """,
            ("id", c.Select(x => x.Id).ToArray(), NpgsqlDbType.Bigint),
            ("token", c.Select(x => x.Token).ToArray(), NpgsqlDbType.Text),
            ("customer", c.Select(x => x.CustomerId).ToArray(), NpgsqlDbType.Bigint),
            ("created", c.Select(x => Utc(x.CreatedAt)).ToArray(), NpgsqlDbType.TimestampTz),
            ("completed", c.Select(x => Utc(x.CompletedAt)).ToArray(), NpgsqlDbType.TimestampTz),
            ("total", c.Select(x => x.TotalPrice).ToArray(), NpgsqlDbType.Numeric),
            ("updated", c.Select(x => Utc(x.ShopifyUpdatedAt)).ToArray(), NpgsqlDbType.TimestampTz)), ct);

        // A checkout that arrives after the order that completed it (webhooks are not ordered) is completed too.
        // (Its day is among those already noted: completion changes only checkouts of this batch.)
        var tokens = c.Where(x => x.Token is not null && x.CompletedAt is null).Select(x => x.Token).ToArray();
        if (tokens.Length > 0)
        {
            await using var complete = Command("""
                UPDATE checkouts c SET completed_at = o.processed_at
                FROM orders o
                WHERE c.tenant_id = @tenant AND o.tenant_id = @tenant AND c.token = ANY(@tokens)
                  AND o.checkout_token = c.token AND c.completed_at IS NULL
                """, ("tokens", tokens, NpgsqlDbType.Text));
            await complete.ExecuteNonQueryAsync(ct);
        }
        return accepted.Count;
    }

    /// <summary>Upserts orders; an order that is taken replaces its lines and refunds whole.</summary>
    public async Task<int> UpsertOrdersAsync(OrderBatch batch, CancellationToken ct)
    {
        var o = batch.Orders;
        if (o.Count == 0) return 0;
        var accepted = await ReadIdsAsync(Command("""
            WITH old AS (SELECT id, customer_id, processed_at, checkout_token FROM orders WHERE tenant_id = @tenant AND id = ANY(@id)),
            up AS (
            INSERT INTO orders (tenant_id, id, name, customer_id, processed_at, created_at, cancelled_at, test, currency,
              presentment_currency, total_price, current_total_price, total_price_presentment, shipping_price, total_tax,
              total_discounts, checkout_token, shopify_updated_at, lines_written_at)
            SELECT @tenant, *, now() FROM unnest(@id, @name, @customer, @processed, @created, @cancelled, @test, @currency,
              @presentment, @total, @current, @totalp, @shipping, @tax, @discounts, @token, @updated)
            ON CONFLICT (tenant_id, id) DO UPDATE SET
              name = excluded.name, customer_id = excluded.customer_id, processed_at = excluded.processed_at,
              created_at = excluded.created_at, cancelled_at = excluded.cancelled_at, test = excluded.test,
              currency = excluded.currency, presentment_currency = excluded.presentment_currency,
              total_price = excluded.total_price, current_total_price = excluded.current_total_price,
              total_price_presentment = excluded.total_price_presentment, shipping_price = excluded.shipping_price,
              total_tax = excluded.total_tax, total_discounts = excluded.total_discounts,
              checkout_token = COALESCE(excluded.checkout_token, orders.checkout_token),
              shopify_updated_at = excluded.shopify_updated_at, lines_written_at = excluded.lines_written_at
            WHERE orders.shopify_updated_at <= excluded.shopify_updated_at
            RETURNING id, customer_id, processed_at, checkout_token)
            SELECT up.id, up.processed_at, old.processed_at, up.customer_id, old.customer_id, up.checkout_token, old.checkout_token
            FROM up LEFT JOIN old USING (id)
            """,
            ("id", o.Select(x => x.Id).ToArray(), NpgsqlDbType.Bigint),
            ("name", o.Select(x => x.Name).ToArray(), NpgsqlDbType.Text),
            ("customer", o.Select(x => x.CustomerId).ToArray(), NpgsqlDbType.Bigint),
            ("processed", o.Select(x => Utc(x.ProcessedAt)).ToArray(), NpgsqlDbType.TimestampTz),
            ("created", o.Select(x => Utc(x.CreatedAt)).ToArray(), NpgsqlDbType.TimestampTz),
            ("cancelled", o.Select(x => Utc(x.CancelledAt)).ToArray(), NpgsqlDbType.TimestampTz),
            ("test", o.Select(x => x.Test).ToArray(), NpgsqlDbType.Boolean),
            ("currency", o.Select(x => x.Currency).ToArray(), NpgsqlDbType.Text),
            ("presentment", o.Select(x => x.PresentmentCurrency).ToArray(), NpgsqlDbType.Text),
            ("total", o.Select(x => x.TotalPrice).ToArray(), NpgsqlDbType.Numeric),
            ("current", o.Select(x => x.CurrentTotalPrice).ToArray(), NpgsqlDbType.Numeric),
            ("totalp", o.Select(x => x.TotalPricePresentment).ToArray(), NpgsqlDbType.Numeric),
            ("shipping", o.Select(x => x.ShippingPrice).ToArray(), NpgsqlDbType.Numeric),
            ("tax", o.Select(x => x.TotalTax).ToArray(), NpgsqlDbType.Numeric),
            ("discounts", o.Select(x => x.TotalDiscounts).ToArray(), NpgsqlDbType.Numeric),
            ("token", o.Select(x => x.CheckoutToken).ToArray(), NpgsqlDbType.Text),
            ("updated", o.Select(x => Utc(x.ShopifyUpdatedAt)).ToArray(), NpgsqlDbType.TimestampTz)), ct);
        if (accepted.Count == 0) return 0;

        var lines = batch.Lines.Where(l => accepted.Contains(l.OrderId)).ToList();
        var refunds = batch.Refunds.Where(r => accepted.Contains(r.OrderId)).ToList();
        var refundLines = batch.RefundLines.Where(r => accepted.Contains(r.OrderId)).ToList();
        var ids = accepted.ToArray();
        await using var children = new NpgsqlBatch(connection, transaction);
        children.BatchCommands.Add(BatchCommand("DELETE FROM order_lines WHERE tenant_id = @tenant AND order_id = ANY(@ids)", ("ids", ids, NpgsqlDbType.Bigint)));
        children.BatchCommands.Add(BatchCommand("""
            INSERT INTO order_lines (tenant_id, id, order_id, product_id, variant_id, title, quantity, original_unit_price, discount_allocated, is_gift_card)
            SELECT @tenant, * FROM unnest(@id, @order, @product, @variant, @title, @quantity, @price, @discount, @gift)
            """,
            ("id", lines.Select(x => x.Id).ToArray(), NpgsqlDbType.Bigint),
            ("order", lines.Select(x => x.OrderId).ToArray(), NpgsqlDbType.Bigint),
            ("product", lines.Select(x => x.ProductId).ToArray(), NpgsqlDbType.Bigint),
            ("variant", lines.Select(x => x.VariantId).ToArray(), NpgsqlDbType.Bigint),
            ("title", lines.Select(x => x.Title).ToArray(), NpgsqlDbType.Text),
            ("quantity", lines.Select(x => x.Quantity).ToArray(), NpgsqlDbType.Integer),
            ("price", lines.Select(x => x.OriginalUnitPrice).ToArray(), NpgsqlDbType.Numeric),
            ("discount", lines.Select(x => x.DiscountAllocated).ToArray(), NpgsqlDbType.Numeric),
            ("gift", lines.Select(x => x.IsGiftCard).ToArray(), NpgsqlDbType.Boolean)));
        AddRefundCommands(children, refunds, refundLines);
        await children.ExecuteNonQueryAsync(ct);
        // Every refund of a changed order counts again on its own day (the order may have become a test or been
        // re-dated), and a checkout whose token an order carries may have stopped being abandoned.
        await NoteRefundsAndCheckoutsAsync(ids, _acceptedTokens.ToArray(), ct);
        return accepted.Count;
    }

    /// <summary>Adds refunds by id. A refund never changes once made, so one already stored is kept, and
    /// an order arriving late (or a refund arriving before its order) never loses one.</summary>
    public async Task UpsertRefundsAsync(OrderBatch batch, CancellationToken ct)
    {
        await using var commands = new NpgsqlBatch(connection, transaction);
        AddRefundCommands(commands, batch.Refunds, batch.RefundLines);
        await commands.ExecuteNonQueryAsync(ct);
        foreach (var refund in batch.Refunds) Affected.Instant(refund.CreatedAt);
        await using var customers = Command("SELECT customer_id FROM orders WHERE tenant_id = @tenant AND id = ANY(@orders)",
            ("orders", batch.Refunds.Select(r => r.OrderId).Distinct().ToArray(), NpgsqlDbType.Bigint));
        await using var reader = await customers.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) Affected.Customer(reader.IsDBNull(0) ? null : reader.GetInt64(0));
    }

    private void AddRefundCommands(NpgsqlBatch children, List<ShopRefund> refunds, List<ShopRefundLine> refundLines)
    {
        // A refund never changes once made; one known only by its id and date (details pending) gets its details
        // from whichever source brings them first.
        children.BatchCommands.Add(BatchCommand("""
            INSERT INTO refunds (tenant_id, id, order_id, created_at, shipping_refunded, shipping_tax_refunded, details_pending)
            SELECT @tenant, * FROM unnest(@id, @order, @created, @shipping, @shippingTax, @pending)
            ON CONFLICT (tenant_id, id) DO UPDATE SET
              shipping_refunded = excluded.shipping_refunded, shipping_tax_refunded = excluded.shipping_tax_refunded, details_pending = false
            WHERE refunds.details_pending AND NOT excluded.details_pending
            """,
            ("id", refunds.Select(x => x.Id).ToArray(), NpgsqlDbType.Bigint),
            ("order", refunds.Select(x => x.OrderId).ToArray(), NpgsqlDbType.Bigint),
            ("created", refunds.Select(x => Utc(x.CreatedAt)).ToArray(), NpgsqlDbType.TimestampTz),
            ("shipping", refunds.Select(x => x.ShippingRefunded).ToArray(), NpgsqlDbType.Numeric),
            ("shippingTax", refunds.Select(x => x.ShippingTaxRefunded).ToArray(), NpgsqlDbType.Numeric),
            ("pending", refunds.Select(x => x.DetailsPending).ToArray(), NpgsqlDbType.Boolean)));
        children.BatchCommands.Add(BatchCommand("""
            INSERT INTO refund_lines (tenant_id, refund_id, line_item_id, order_id, quantity, subtotal, total_tax)
            SELECT @tenant, * FROM unnest(@refund, @line, @order, @quantity, @subtotal, @tax)
            ON CONFLICT (tenant_id, refund_id, line_item_id) DO NOTHING
            """,
            ("refund", refundLines.Select(x => x.RefundId).ToArray(), NpgsqlDbType.Bigint),
            ("line", refundLines.Select(x => x.LineItemId).ToArray(), NpgsqlDbType.Bigint),
            ("order", refundLines.Select(x => x.OrderId).ToArray(), NpgsqlDbType.Bigint),
            ("quantity", refundLines.Select(x => x.Quantity).ToArray(), NpgsqlDbType.Integer),
            ("subtotal", refundLines.Select(x => x.Subtotal).ToArray(), NpgsqlDbType.Numeric),
            ("tax", refundLines.Select(x => x.TotalTax).ToArray(), NpgsqlDbType.Numeric)));
    }

    /// <summary>The lines and shipping of refunds that were known by id and date only (their details were pending).</summary>
    public async Task WriteRefundDetailsAsync(OrderBatch details, CancellationToken ct)
    {
        if (details.Refunds.Count == 0) return;
        await using var commands = new NpgsqlBatch(connection, transaction);
        commands.BatchCommands.Add(BatchCommand("""
            INSERT INTO refund_lines (tenant_id, refund_id, line_item_id, order_id, quantity, subtotal, total_tax)
            SELECT @tenant, * FROM unnest(@refund, @line, @order, @quantity, @subtotal, @tax)
            ON CONFLICT (tenant_id, refund_id, line_item_id) DO NOTHING
            """,
            ("refund", details.RefundLines.Select(x => x.RefundId).ToArray(), NpgsqlDbType.Bigint),
            ("line", details.RefundLines.Select(x => x.LineItemId).ToArray(), NpgsqlDbType.Bigint),
            ("order", details.RefundLines.Select(x => x.OrderId).ToArray(), NpgsqlDbType.Bigint),
            ("quantity", details.RefundLines.Select(x => x.Quantity).ToArray(), NpgsqlDbType.Integer),
            ("subtotal", details.RefundLines.Select(x => x.Subtotal).ToArray(), NpgsqlDbType.Numeric),
            ("tax", details.RefundLines.Select(x => x.TotalTax).ToArray(), NpgsqlDbType.Numeric)));
        commands.BatchCommands.Add(BatchCommand("""
            UPDATE refunds r SET shipping_refunded = u.shipping, shipping_tax_refunded = u.tax, details_pending = false
            FROM unnest(@id, @shipping, @tax) AS u(id, shipping, tax)
            WHERE r.tenant_id = @tenant AND r.id = u.id AND r.details_pending
            """,
            ("id", details.Refunds.Select(x => x.Id).ToArray(), NpgsqlDbType.Bigint),
            ("shipping", details.Refunds.Select(x => x.ShippingRefunded).ToArray(), NpgsqlDbType.Numeric),
            ("tax", details.Refunds.Select(x => x.ShippingTaxRefunded).ToArray(), NpgsqlDbType.Numeric)));
        await commands.ExecuteNonQueryAsync(ct);
        foreach (var refund in details.Refunds) Affected.Instant(refund.CreatedAt);
        await using var customers = Command("SELECT customer_id FROM orders WHERE tenant_id = @tenant AND id = ANY(@orders)",
            ("orders", details.Refunds.Select(r => r.OrderId).Distinct().ToArray(), NpgsqlDbType.Bigint));
        await using var reader = await customers.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) Affected.Customer(reader.IsDBNull(0) ? null : reader.GetInt64(0));
    }

    /// <summary>A delete topic: the record stops counting from now on, but stays for past figures
    /// (a deleted product keeps its sales). A delete is final: later updates do not bring it back.</summary>
    public async Task MarkDeletedAsync(string table, long id, DateTimeOffset at, CancellationToken ct)
    {
        if (table is not ("orders" or "products" or "customers" or "checkouts")) throw new ArgumentOutOfRangeException(nameof(table));
        await NoteBeforeDeleteAsync(table, id, ct);
        await using var command = new NpgsqlCommand(
            $"UPDATE {table} SET deleted_at = COALESCE(deleted_at, @at) WHERE tenant_id = @tenant AND id = @id", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenantId });
        command.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Bigint) { Value = id });
        command.Parameters.Add(new NpgsqlParameter("at", NpgsqlDbType.TimestampTz) { Value = at.ToUniversalTime() });
        var updated = await command.ExecuteNonQueryAsync(ct);
        if (updated == 0 && table == "orders")
        {
            // Deleted before Xeno saw it: remember the id, so that a late orders/create cannot bring it in.
            await using var tombstone = new NpgsqlCommand("""
                INSERT INTO orders (tenant_id, id, processed_at, test, total_price, current_total_price, total_price_presentment,
                  shipping_price, total_tax, total_discounts, shopify_updated_at, deleted_at)
                VALUES (@tenant, @id, @at, false, 0, 0, 0, 0, 0, 0, @at, @at) ON CONFLICT DO NOTHING
                """, connection, transaction);
            tombstone.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenantId });
            tombstone.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Bigint) { Value = id });
            tombstone.Parameters.Add(new NpgsqlParameter("at", NpgsqlDbType.TimestampTz) { Value = at.ToUniversalTime() });
            await tombstone.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>What a delete changes in the aggregates, read before the delete: an order's day, customer, refunds and
    /// checkout; a customer's creation day and RFM group (unless already deleted); a checkout's day.</summary>
    private async Task NoteBeforeDeleteAsync(string table, long id, CancellationToken ct)
    {
        var sql = table switch
        {
            "orders" => """
                SELECT o.processed_at, o.customer_id, NULL::text FROM orders o WHERE o.tenant_id = @tenant AND o.id = @id AND o.deleted_at IS NULL
                UNION ALL SELECT r.created_at, NULL, NULL FROM refunds r WHERE r.tenant_id = @tenant AND r.order_id = @id
                UNION ALL SELECT c.created_at, NULL, NULL FROM checkouts c JOIN orders o ON o.tenant_id = @tenant AND o.id = @id AND o.checkout_token = c.token
                  WHERE c.tenant_id = @tenant
                """,
            "customers" => "SELECT created_at, NULL::bigint, rfm_group FROM customers WHERE tenant_id = @tenant AND id = @id AND deleted_at IS NULL",
            "checkouts" => "SELECT created_at, NULL::bigint, NULL::text FROM checkouts WHERE tenant_id = @tenant AND id = @id AND deleted_at IS NULL",
            _ => null,
        };
        if (sql is null) return;
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenantId });
        command.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Bigint) { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            Affected.Instant(NullableTime(reader, 0));
            Affected.Customer(reader.IsDBNull(1) ? null : reader.GetInt64(1));
            if (!reader.IsDBNull(2)) Affected.Group(reader.GetString(2), null);
        }
    }

    /// <summary>A checkout whose token appears on an order is completed.</summary>
    public async Task CompleteCheckoutsAsync(IReadOnlyList<ShopOrder> orders, CancellationToken ct)
    {
        var withToken = orders.Where(o => o.CheckoutToken is not null).ToList();
        if (withToken.Count == 0) return;
        await using var command = Command("""
            UPDATE checkouts c SET completed_at = COALESCE(c.completed_at, u.at)
            FROM unnest(@token, @at) AS u(token, at)
            WHERE c.tenant_id = @tenant AND c.token = u.token
            RETURNING c.created_at
            """,
            ("token", withToken.Select(o => o.CheckoutToken).ToArray(), NpgsqlDbType.Text),
            ("at", withToken.Select(o => Utc(o.ProcessedAt)).ToArray(), NpgsqlDbType.TimestampTz));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) Affected.Instant(NullableTime(reader, 0));
    }

    private NpgsqlCommand Command(string sql, params (string Name, Array Values, NpgsqlDbType Type)[] arrays)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        AddParameters(command.Parameters, arrays);
        return command;
    }

    private NpgsqlBatchCommand BatchCommand(string sql, params (string Name, Array Values, NpgsqlDbType Type)[] arrays)
    {
        var command = new NpgsqlBatchCommand(sql);
        AddParameters(command.Parameters, arrays);
        return command;
    }

    /// <summary>The tenant, and each column's values as one typed array for unnest.</summary>
    private void AddParameters(NpgsqlParameterCollection parameters, (string Name, Array Values, NpgsqlDbType Type)[] arrays)
    {
        parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenantId });
        foreach (var (name, values, type) in arrays)
            parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | type) { Value = values });
    }

    private readonly List<string> _acceptedTokens = [];

    /// <summary>The ids a statement accepted (its first column). Further columns, where the statement returns them, are
    /// the accepted rows' times, customers and checkout tokens, new and old, noted as affected.</summary>
    private async Task<HashSet<long>> ReadIdsAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using (command)
        {
            _acceptedTokens.Clear();
            var ids = new HashSet<long>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ids.Add(reader.GetInt64(0));
                for (var i = 1; i < reader.FieldCount; i++)
                {
                    if (reader.IsDBNull(i)) continue;
                    switch (reader.GetFieldValue<object>(i))
                    {
                        case DateTime at: Affected.Instant(new DateTimeOffset(at, TimeSpan.Zero)); break;
                        case long customer: Affected.Customer(customer); break;
                        case string token: _acceptedTokens.Add(token); break;
                    }
                }
            }
            return ids;
        }
    }

    private async Task NoteRefundsAndCheckoutsAsync(long[] orderIds, string[] tokens, CancellationToken ct)
    {
        await using var command = Command("""
            SELECT created_at FROM refunds WHERE tenant_id = @tenant AND order_id = ANY(@orders)
            UNION ALL
            SELECT created_at FROM checkouts WHERE tenant_id = @tenant AND token = ANY(@tokens)
            """, ("orders", orderIds, NpgsqlDbType.Bigint), ("tokens", tokens, NpgsqlDbType.Text));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) Affected.Instant(NullableTime(reader, 0));
    }

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : new DateTimeOffset(reader.GetDateTime(ordinal), TimeSpan.Zero);

    /// <summary>Ends a unit of writes, inside its transaction and before it commits: the store's data version moves
    /// on (dashboards redraw), and what is kept of the data as it lands is brought up to date with it.</summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        if (!Affected.IsEmpty) await ShopAggregates.RefreshAsync(connection, transaction, tenantId, Affected, ct);
        await using var bump = new NpgsqlCommand("UPDATE stores SET data_version = data_version + 1 WHERE id = @tenant", connection, transaction);
        bump.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenantId });
        await bump.ExecuteNonQueryAsync(ct);
    }

    // Npgsql writes timestamptz only from UTC values.
    private static DateTimeOffset Utc(DateTimeOffset value) => value.ToUniversalTime();
    private static DateTimeOffset? Utc(DateTimeOffset? value) => value?.ToUniversalTime();
}

public static class ShopDataTransactions
{
    /// <summary>Runs <paramref name="work"/> with a writer in one transaction on the context's connection
    /// (opened with the scope's tenant), then saves the context's own changes and finishes the writer
    /// (<see cref="ShopDataWriter.FinishAsync"/>) in the same transaction.</summary>
    public static async Task WriteAsync(this XenoDb db, Guid tenantId, Func<ShopDataWriter, Task> work, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var writer = new ShopDataWriter(connection, (NpgsqlTransaction)tx.GetDbTransaction(), tenantId);
            await work(writer);
            await db.SaveChangesAsync(ct);
            await writer.FinishAsync(ct);
            await tx.CommitAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
