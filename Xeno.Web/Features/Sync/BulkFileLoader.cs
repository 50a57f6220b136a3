using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;

namespace Xeno.Web.Features.Sync;

/// <summary>
/// Streams one bulk operation's JSONL file into PostgreSQL: lines are parsed as they arrive, a batch of them goes by
/// binary COPY into temporary staging tables, and one set-based merge per table moves the batch into the store's
/// tables, in the same transaction as the file's checkpoint (lines and bytes stored). Memory holds one batch, whatever
/// the file's size; a broken download, or a restarted worker, goes on from the last stored byte with a Range request.
/// </summary>
/// <remarks>
/// The merges keep the rule that an older <c>updatedAt</c> never overwrites a newer row. Children carry no
/// <c>updatedAt</c> of their own, and Shopify does not promise any order of lines in an ungrouped file, so an order's
/// line items are written unless a webhook or a paged sync replaced that order's lines after the bulk operation was
/// started (<c>orders.lines_written_at</c>): such lines are at least as new as the file's. Refunds come with their ids
/// and dates only (a bulk file cannot hold a connection inside the refunds list); their details are fetched afterwards.
/// </remarks>
public sealed class BulkFileLoader(HttpClient http, IConfiguration config, ILogger<BulkFileLoader> logger)
{
    /// <summary>Lines per transaction (<c>Sync__BulkBatchLines</c>): large enough that a transaction's fixed costs vanish,
    /// small enough to hold in memory (20,000 took a 1M-order backfill just past 400 MB).</summary>
    public int BatchLines { get; } = config.GetValue("Sync:BulkBatchLines", 10_000);

    private const int DownloadAttempts = 5;
    private const int FirstBatchLines = 1_000;

    /// <returns>The top-level objects stored (orders, customers…), for the run's counts.</returns>
    /// <exception cref="BulkFileGoneException">The file's link answers 403 (expired or revoked): a new operation, or paging, is needed.</exception>
    public async Task LoadAsync(NpgsqlConnection connection, Guid tenant, SyncBulkFile file, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await LoadFromAsync(connection, tenant, file, ct);
                break;
            }
            catch (Exception e) when (attempt < DownloadAttempts && e is HttpRequestException or IOException && !ct.IsCancellationRequested)
            {
                // A dropped download goes on from the last stored byte.
                logger.LogInformation("The {Kind} bulk file broke off after {Bytes} bytes ({Error}); resuming", file.Kind, file.BytesLoaded, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), ct);
            }
        }
        if (file.LinesLoaded != file.ObjectCount)
            throw new InvalidOperationException(
                $"Shopify's {file.Kind} file holds {file.ObjectCount} objects, but Xeno stored {file.LinesLoaded}. The next full sync will try again.");
    }

    private async Task LoadFromAsync(NpgsqlConnection connection, Guid tenant, SyncBulkFile file, CancellationToken ct)
    {
        if (file.LinesLoaded >= file.ObjectCount && file.ObjectCount > 0) return;
        using var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        if (file.BytesLoaded > 0) request.Headers.Range = new RangeHeaderValue(file.BytesLoaded, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
            throw new BulkFileGoneException($"Shopify's {file.Kind} file is no longer available (HTTP {(int)response.StatusCode}).");
        response.EnsureSuccessStatusCode();
        if (file.BytesLoaded > 0 && response.StatusCode != HttpStatusCode.PartialContent)
            throw new IOException("The file's host ignored the Range request.");

        var reader = PipeReader.Create(await response.Content.ReadAsStreamAsync(ct), new StreamPipeReaderOptions(bufferSize: 1 << 16));
        var batch = new BulkBatch(file.Kind);
        long consumed = 0;
        // One batch is written while the next is read and parsed: PostgreSQL and the JSON parsing each keep a core busy
        // instead of taking turns. Batches still commit one after the other, in file order, each with its checkpoint.
        // The first batches are small and each twice the last, up to BatchLines: writing starts after a few thousand lines
        // instead of ten thousand, which is most of a small shop's file.
        Task? storing = null;
        var limit = Math.Min(BatchLines, FirstBatchLines);
        async Task StoreInTurnAsync(BulkBatch full, long bytes)
        {
            if (storing is not null) await storing;
            storing = StoreAsync(connection, tenant, file, full, bytes, ct);
            limit = Math.Min(BatchLines, limit * 2);
        }
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(ct);
                var buffer = read.Buffer;
                while (TryReadLine(ref buffer, out var line))
                {
                    consumed += line.Length + 1;
                    if (line.Length > 0) batch.Add(Parse(line));
                    if (batch.Lines >= limit)
                    {
                        await StoreInTurnAsync(batch, consumed);
                        consumed = 0;
                        batch = new BulkBatch(file.Kind);
                    }
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    // A last line without its newline.
                    if (!buffer.IsEmpty)
                    {
                        consumed += buffer.Length;
                        batch.Add(Parse(buffer));
                    }
                    break;
                }
            }
            await reader.CompleteAsync();
            if (batch.Lines > 0 || consumed > 0) await StoreInTurnAsync(batch, consumed);
            if (storing is not null) await storing;
        }
        catch when (storing is { IsCompleted: false })
        {
            // The connection is the batch's until its transaction ends; whoever retries gets it back only then (its own
            // failure, if any, is this one's consequence or is met again on the retry).
            try { await storing; } catch (Exception) { }
            throw;
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var end = buffer.PositionOf((byte)'\n');
        if (end is null)
        {
            line = default;
            return false;
        }
        line = buffer.Slice(0, end.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
        return true;
    }

    private static JsonObject Parse(ReadOnlySequence<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        return JsonNode.Parse(ref reader) as JsonObject ?? throw new JsonException("A bulk line that is not a JSON object.");
    }

    /// <summary>One transaction: the batch into the staging tables, merged into the store's, and the checkpoint moved on.</summary>
    private async Task StoreAsync(NpgsqlConnection connection, Guid tenant, SyncBulkFile file, BulkBatch batch, long bytes, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await batch.StageAsync(connection, ct);
        await using (var merge = new NpgsqlCommand(MergeSql(file.Kind), connection, transaction))
        {
            merge.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenant });
            merge.Parameters.Add(new NpgsqlParameter("started", NpgsqlDbType.TimestampTz) { Value = file.StartedAt.ToUniversalTime() });
            await merge.ExecuteNonQueryAsync(ct);
        }
        await using (var checkpoint = new NpgsqlCommand($"""
            UPDATE sync_bulk_files SET lines_loaded = lines_loaded + @lines, bytes_loaded = bytes_loaded + @bytes
            WHERE tenant_id = @tenant AND run_id = @run AND kind = @kind;
            UPDATE sync_runs SET {FetchedColumn(file.Kind)} = {FetchedColumn(file.Kind)} + @roots, pages_fetched = pages_fetched + 1
            WHERE tenant_id = @tenant AND id = @run;
            """, connection, transaction))
        {
            checkpoint.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenant });
            checkpoint.Parameters.Add(new NpgsqlParameter("run", NpgsqlDbType.Uuid) { Value = file.RunId });
            checkpoint.Parameters.Add(new NpgsqlParameter("kind", NpgsqlDbType.Text) { Value = file.Kind });
            checkpoint.Parameters.Add(new NpgsqlParameter("lines", NpgsqlDbType.Bigint) { Value = (long)batch.Lines });
            checkpoint.Parameters.Add(new NpgsqlParameter("bytes", NpgsqlDbType.Bigint) { Value = bytes });
            checkpoint.Parameters.Add(new NpgsqlParameter("roots", NpgsqlDbType.Integer) { Value = batch.Roots });
            await checkpoint.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        file.LinesLoaded += batch.Lines;
        file.BytesLoaded += bytes;
    }

    private static string FetchedColumn(string kind) => kind switch
    {
        "products" => "fetched_products",
        "customers" => "fetched_customers",
        "orders" => "fetched_orders",
        _ => "fetched_abandoned_checkouts",
    };

    /// <summary>Each kind's merge from its staging tables; the same rules as ShopDataWriter's upserts.</summary>
    private static string MergeSql(string kind) => kind switch
    {
        "products" => """
            INSERT INTO products (tenant_id, id, title, status, created_at, shopify_updated_at)
            SELECT @tenant, id, title, status, created_at, shopify_updated_at FROM stage_products
            ON CONFLICT (tenant_id, id) DO UPDATE SET
              title = excluded.title, status = excluded.status, created_at = excluded.created_at, shopify_updated_at = excluded.shopify_updated_at
            WHERE products.shopify_updated_at <= excluded.shopify_updated_at;
            INSERT INTO product_variants (tenant_id, id, product_id, title, sku, price)
            SELECT @tenant, id, product_id, title, sku, price FROM stage_variants
            ON CONFLICT (tenant_id, id) DO UPDATE SET product_id = excluded.product_id, title = excluded.title, sku = excluded.sku, price = excluded.price;
            """,
        "customers" => """
            INSERT INTO customers (tenant_id, id, first_name, last_name, email, phone, rfm_group, created_at, shopify_updated_at)
            SELECT @tenant, id, first_name, last_name, email, phone, rfm_group, created_at, shopify_updated_at FROM stage_customers
            ON CONFLICT (tenant_id, id) DO UPDATE SET
              first_name = CASE WHEN customers.redacted_at IS NULL THEN excluded.first_name END,
              last_name = CASE WHEN customers.redacted_at IS NULL THEN excluded.last_name END,
              email = CASE WHEN customers.redacted_at IS NULL THEN excluded.email END,
              phone = CASE WHEN customers.redacted_at IS NULL THEN excluded.phone END,
              rfm_group = COALESCE(excluded.rfm_group, customers.rfm_group), created_at = excluded.created_at, shopify_updated_at = excluded.shopify_updated_at
            WHERE customers.shopify_updated_at <= excluded.shopify_updated_at;
            """,
        "orders" => """
            INSERT INTO orders (tenant_id, id, name, customer_id, processed_at, created_at, cancelled_at, test, currency,
              presentment_currency, total_price, current_total_price, total_price_presentment, shipping_price, total_tax,
              total_discounts, shopify_updated_at)
            SELECT @tenant, id, name, customer_id, processed_at, created_at, cancelled_at, test, currency, presentment_currency,
              total_price, current_total_price, total_price_presentment, shipping_price, total_tax, total_discounts, shopify_updated_at
            FROM stage_orders
            ON CONFLICT (tenant_id, id) DO UPDATE SET
              name = excluded.name, customer_id = excluded.customer_id, processed_at = excluded.processed_at,
              created_at = excluded.created_at, cancelled_at = excluded.cancelled_at, test = excluded.test,
              currency = excluded.currency, presentment_currency = excluded.presentment_currency,
              total_price = excluded.total_price, current_total_price = excluded.current_total_price,
              total_price_presentment = excluded.total_price_presentment, shipping_price = excluded.shipping_price,
              total_tax = excluded.total_tax, total_discounts = excluded.total_discounts, shopify_updated_at = excluded.shopify_updated_at
            WHERE orders.shopify_updated_at <= excluded.shopify_updated_at;
            INSERT INTO order_lines (tenant_id, id, order_id, product_id, variant_id, title, quantity, original_unit_price, discount_allocated, is_gift_card)
            SELECT @tenant, s.id, s.order_id, s.product_id, s.variant_id, s.title, s.quantity, s.original_unit_price, s.discount_allocated, s.is_gift_card
            FROM stage_lines s
            -- The orders to leave alone, read once from a small index: no join with the store's orders, for which the
            -- planner, on statistics from before the store's first load, chose to hash them all for every batch or to
            -- walk them all for every line.
            WHERE s.order_id <> ALL (ARRAY(
              SELECT o.id FROM orders o WHERE o.tenant_id = @tenant AND o.lines_written_at >= @started))
            ON CONFLICT (tenant_id, id) DO UPDATE SET
              order_id = excluded.order_id, product_id = excluded.product_id, variant_id = excluded.variant_id, title = excluded.title,
              quantity = excluded.quantity, original_unit_price = excluded.original_unit_price,
              discount_allocated = excluded.discount_allocated, is_gift_card = excluded.is_gift_card;
            INSERT INTO refunds (tenant_id, id, order_id, created_at, shipping_refunded, shipping_tax_refunded, details_pending)
            SELECT @tenant, id, order_id, created_at, 0, 0, true FROM stage_refunds
            ON CONFLICT (tenant_id, id) DO NOTHING;
            """,
        _ => """
            INSERT INTO checkouts (tenant_id, id, token, customer_id, created_at, completed_at, total_price, shopify_updated_at)
            SELECT @tenant, id, NULL, customer_id, created_at, completed_at, total_price, shopify_updated_at FROM stage_checkouts
            ON CONFLICT (tenant_id, id) DO UPDATE SET
              customer_id = excluded.customer_id, created_at = excluded.created_at,
              completed_at = COALESCE(excluded.completed_at, checkouts.completed_at),
              total_price = excluded.total_price, shopify_updated_at = excluded.shopify_updated_at
            WHERE checkouts.shopify_updated_at <= excluded.shopify_updated_at;
            """,
    };

    /// <summary>The rows of one batch of lines, mapped as a paged sync maps its nodes, and their binary COPY.</summary>
    private sealed class BulkBatch(string kind)
    {
        private readonly ProductBatch _products = new();
        private readonly List<ShopCustomer> _customers = [];
        private readonly OrderBatch _orders = new();
        private readonly List<ShopCheckout> _checkouts = [];

        public int Lines { get; private set; }
        public int Roots { get; private set; }

        public void Add(JsonObject line)
        {
            Lines++;
            var gid = line["id"]?.GetValue<string>() ?? throw new JsonException("A bulk line without an id.");
            var parent = line["__parentId"]?.GetValue<string>() is { } p ? ShopifyIds.FromGid(p) : (long?)null;
            var type = gid["gid://shopify/".Length..gid.IndexOf('/', "gid://shopify/".Length)];
            if (parent is null) Roots++;
            switch (kind, type)
            {
                case ("products", "Product"): GraphQlMapping.Product(line, _products); break;
                case ("products", "ProductVariant"): _products.Variants.Add(GraphQlMapping.Variant(line, parent!.Value)); break;
                case ("customers", "Customer"): _customers.Add(GraphQlMapping.Customer(line)); break;
                case ("orders", "Order"): GraphQlMapping.Order(line, _orders); break;
                case ("orders", "LineItem"): _orders.Lines.Add(GraphQlMapping.LineItem(line, parent!.Value)); break;
                case ("abandonedCheckouts", "AbandonedCheckout"): _checkouts.Add(GraphQlMapping.Checkout(line)); break;
                default: throw new JsonException($"An unexpected {type} line in the {kind} file.");
            }
        }

        public async Task StageAsync(NpgsqlConnection connection, CancellationToken ct)
        {
            switch (kind)
            {
                case "products":
                    await CopyAsync(connection, "stage_products (id bigint, title text, status text, created_at timestamptz, shopify_updated_at timestamptz)",
                        _products.Products, async (w, p) =>
                        {
                            await w.WriteAsync(p.Id, NpgsqlDbType.Bigint, ct); await w.WriteAsync(p.Title, NpgsqlDbType.Text, ct);
                            await Nullable(w, p.Status, NpgsqlDbType.Text, ct); await Nullable(w, Utc(p.CreatedAt), NpgsqlDbType.TimestampTz, ct);
                            await w.WriteAsync(p.ShopifyUpdatedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                        }, ct);
                    await CopyAsync(connection, "stage_variants (id bigint, product_id bigint, title text, sku text, price numeric)",
                        _products.Variants, async (w, v) =>
                        {
                            await w.WriteAsync(v.Id, NpgsqlDbType.Bigint, ct); await w.WriteAsync(v.ProductId, NpgsqlDbType.Bigint, ct);
                            await Nullable(w, v.Title, NpgsqlDbType.Text, ct); await Nullable(w, v.Sku, NpgsqlDbType.Text, ct);
                            await Nullable(w, v.Price, NpgsqlDbType.Numeric, ct);
                        }, ct);
                    break;
                case "customers":
                    await CopyAsync(connection,
                        "stage_customers (id bigint, first_name text, last_name text, email text, phone text, rfm_group text, created_at timestamptz, shopify_updated_at timestamptz)",
                        _customers, async (w, c) =>
                        {
                            await w.WriteAsync(c.Id, NpgsqlDbType.Bigint, ct); await Nullable(w, c.FirstName, NpgsqlDbType.Text, ct);
                            await Nullable(w, c.LastName, NpgsqlDbType.Text, ct); await Nullable(w, c.Email, NpgsqlDbType.Text, ct);
                            await Nullable(w, c.Phone, NpgsqlDbType.Text, ct); await Nullable(w, c.RfmGroup, NpgsqlDbType.Text, ct);
                            await Nullable(w, Utc(c.CreatedAt), NpgsqlDbType.TimestampTz, ct);
                            await w.WriteAsync(c.ShopifyUpdatedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                        }, ct);
                    break;
                case "orders":
                    await CopyAsync(connection,
                        """
                        stage_orders (id bigint, name text, customer_id bigint, processed_at timestamptz, created_at timestamptz,
                          cancelled_at timestamptz, test boolean, currency text, presentment_currency text, total_price numeric,
                          current_total_price numeric, total_price_presentment numeric, shipping_price numeric, total_tax numeric,
                          total_discounts numeric, shopify_updated_at timestamptz)
                        """,
                        _orders.Orders, async (w, o) =>
                        {
                            await w.WriteAsync(o.Id, NpgsqlDbType.Bigint, ct); await Nullable(w, o.Name, NpgsqlDbType.Text, ct);
                            await Nullable(w, o.CustomerId, NpgsqlDbType.Bigint, ct); await w.WriteAsync(o.ProcessedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                            await Nullable(w, Utc(o.CreatedAt), NpgsqlDbType.TimestampTz, ct); await Nullable(w, Utc(o.CancelledAt), NpgsqlDbType.TimestampTz, ct);
                            await w.WriteAsync(o.Test, NpgsqlDbType.Boolean, ct); await Nullable(w, o.Currency, NpgsqlDbType.Text, ct);
                            await Nullable(w, o.PresentmentCurrency, NpgsqlDbType.Text, ct); await w.WriteAsync(o.TotalPrice, NpgsqlDbType.Numeric, ct);
                            await w.WriteAsync(o.CurrentTotalPrice, NpgsqlDbType.Numeric, ct); await w.WriteAsync(o.TotalPricePresentment, NpgsqlDbType.Numeric, ct);
                            await w.WriteAsync(o.ShippingPrice, NpgsqlDbType.Numeric, ct); await w.WriteAsync(o.TotalTax, NpgsqlDbType.Numeric, ct);
                            await w.WriteAsync(o.TotalDiscounts, NpgsqlDbType.Numeric, ct); await w.WriteAsync(o.ShopifyUpdatedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                        }, ct);
                    await CopyAsync(connection,
                        """
                        stage_lines (id bigint, order_id bigint, product_id bigint, variant_id bigint, title text, quantity integer,
                          original_unit_price numeric, discount_allocated numeric, is_gift_card boolean)
                        """,
                        _orders.Lines, async (w, l) =>
                        {
                            await w.WriteAsync(l.Id, NpgsqlDbType.Bigint, ct); await w.WriteAsync(l.OrderId, NpgsqlDbType.Bigint, ct);
                            await Nullable(w, l.ProductId, NpgsqlDbType.Bigint, ct); await Nullable(w, l.VariantId, NpgsqlDbType.Bigint, ct);
                            await Nullable(w, l.Title, NpgsqlDbType.Text, ct); await w.WriteAsync(l.Quantity, NpgsqlDbType.Integer, ct);
                            await w.WriteAsync(l.OriginalUnitPrice, NpgsqlDbType.Numeric, ct); await w.WriteAsync(l.DiscountAllocated, NpgsqlDbType.Numeric, ct);
                            await w.WriteAsync(l.IsGiftCard, NpgsqlDbType.Boolean, ct);
                        }, ct);
                    await CopyAsync(connection, "stage_refunds (id bigint, order_id bigint, created_at timestamptz)",
                        _orders.Refunds, async (w, r) =>
                        {
                            await w.WriteAsync(r.Id, NpgsqlDbType.Bigint, ct); await w.WriteAsync(r.OrderId, NpgsqlDbType.Bigint, ct);
                            await w.WriteAsync(r.CreatedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                        }, ct);
                    break;
                default:
                    await CopyAsync(connection,
                        "stage_checkouts (id bigint, customer_id bigint, created_at timestamptz, completed_at timestamptz, total_price numeric, shopify_updated_at timestamptz)",
                        _checkouts, async (w, c) =>
                        {
                            await w.WriteAsync(c.Id, NpgsqlDbType.Bigint, ct); await Nullable(w, c.CustomerId, NpgsqlDbType.Bigint, ct);
                            await w.WriteAsync(c.CreatedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct); await Nullable(w, Utc(c.CompletedAt), NpgsqlDbType.TimestampTz, ct);
                            await w.WriteAsync(c.TotalPrice, NpgsqlDbType.Numeric, ct); await w.WriteAsync(c.ShopifyUpdatedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                        }, ct);
                    break;
            }
        }

        /// <summary>A temporary table dropped at commit, filled by binary COPY.</summary>
        private static async Task CopyAsync<T>(NpgsqlConnection connection, string table, IReadOnlyList<T> rows, Func<NpgsqlBinaryImporter, T, Task> write, CancellationToken ct)
        {
            var name = table[..table.IndexOf(' ')];
            await using (var create = new NpgsqlCommand($"CREATE TEMP TABLE {table} ON COMMIT DROP", connection))
                await create.ExecuteNonQueryAsync(ct);
            var columns = table[(table.IndexOf('(') + 1)..table.LastIndexOf(')')].Split(',').Select(c => c.Trim().Split(' ')[0]);
            await using var importer = await connection.BeginBinaryImportAsync($"COPY {name} ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)", ct);
            foreach (var row in rows)
            {
                await importer.StartRowAsync(ct);
                await write(importer, row);
            }
            await importer.CompleteAsync(ct);
        }

        private static Task Nullable(NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type, CancellationToken ct) =>
            value is null ? writer.WriteNullAsync(ct) : writer.WriteAsync(value, type, ct);

        private static Task Nullable<TValue>(NpgsqlBinaryImporter writer, TValue? value, NpgsqlDbType type, CancellationToken ct) where TValue : struct =>
            value is { } v ? writer.WriteAsync(v, type, ct) : writer.WriteNullAsync(ct);

        private static DateTime? Utc(DateTimeOffset? value) => value?.UtcDateTime;
    }
}

/// <summary>A bulk operation's file can no longer be downloaded (its link expired or was revoked).</summary>
public sealed class BulkFileGoneException(string message) : Exception(message);
