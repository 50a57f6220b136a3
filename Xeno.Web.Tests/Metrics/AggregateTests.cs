using System.Globalization;
using Npgsql;
using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;
using Xeno.Web.Infrastructure.Ingestion;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Metrics;

/// <summary>
/// The aggregates the dashboards read are kept as data lands (a sync's pages, webhooks one by one). After every kind of
/// change Shopify sends, they must equal what a rebuild from the stored rows gives: nothing missed, nothing counted twice.
/// </summary>
[Collection(XenoCollection.Name)]
public sealed class AggregateTests(XenoFixture fixture)
{
    private static readonly string[] Tables = ["daily_metrics", "product_daily", "customer_daily", "customer_stats", "customer_nets", "customer_first_day_nets", "customer_pairs", "customer_groups", "customer_windows"];

    [Fact]
    public async Task aggregates_kept_through_syncs_webhooks_refunds_deletions_and_redactions_equal_a_rebuild_from_the_rows()
    {
        var domain = $"agg-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(91, 400, new ShopGeneratorOptions { Domain = domain, Name = "Aggregate Shop" });
        shop.RateLimit.Configure(1_000_000, 1_000_000);
        fixture.Shopify.State.AddShop(shop, "shpat_agg");
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, domain, "shpat_agg", apiSecret: XenoFixture.WebhookSecret);
        await fixture.WaitForSyncAsync(token, store.Id);
        await AssertEqualToRebuildAsync(store.Id, "after the first sync");

        // Every kind of change, as webhooks: new and repeat customers, an order moved to another day and to another
        // customer, refunds (on the same and a later day), a cancellation, deletions, a customer deleted and one made,
        // RFM groups moved, a redaction, checkouts abandoned and completed.
        var repeat = shop.Orders.First(o => o.Customer is not null && !o.Test).Customer!;
        var newcomer = shop.AddCustomer();
        shop.PlaceOrder(new NewOrder { Customer = repeat });
        var first = shop.PlaceOrder(new NewOrder { Customer = newcomer });
        shop.PlaceOrder(new NewOrder { Customer = newcomer, ProcessedAt = shop.Clock.GetUtcNow().AddDays(-40) });
        shop.PlaceOrder(new NewOrder());
        var moved = shop.Orders.First(o => o.Customer is not null && o.Customer != repeat && !o.Test && o.Refunds.Count == 0 && o.CancelledAt is null);
        shop.UpdateOrder(moved.Id, o => { o.ProcessedAt = o.ProcessedAt.AddDays(-3); o.Customer = repeat; });
        var guest = shop.Orders.First(o => o.Customer is null && !o.Test && o.Refunds.Count == 0 && o.CancelledAt is null);
        shop.UpdateOrder(guest.Id, o => o.ProcessedAt = o.ProcessedAt.AddDays(-5));
        shop.AddRefund(first.Id, quantity: 1, refundShipping: true);
        shop.AddRefund(shop.Orders.First(o => o.Refunds.Count == 0 && !o.Test && o.CancelledAt is null && o.LineItems.Count > 1).Id, quantity: 1);
        shop.CancelOrder(shop.Orders.First(o => o.CancelledAt is null && !o.Test && o.Refunds.Count == 0 && o != moved).Id);
        shop.DeleteOrder(shop.Orders.First(o => o.Customer is not null && o.Customer != repeat && o != moved && !o.Test).Id);
        var unordered = shop.Customers.First(c => shop.Orders.All(o => o.Customer != c));
        shop.DeleteCustomer(unordered.Id);
        shop.UpdateCustomer(repeat.Id, c => c.Statistics.RfmGroup = "CHAMPIONS");
        var abandoned = shop.AddAbandonedCheckout(repeat.Id);
        shop.CompleteAbandonedCheckout(shop.AbandonedCheckouts.First(c => c.CompletedAt is null && c.Id != abandoned.Id).Id);
        fixture.Shopify.State.EmitCustomersRedact(domain, repeat.Id);
        await fixture.Shopify.State.FlushWebhooksAsync();
        await WaitProcessedAsync(store.Id);
        Assert.Equal(0L, Convert.ToInt64(await fixture.ScalarAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed'")));
        await AssertEqualToRebuildAsync(store.Id, "after the webhooks");

        // An incremental sync over all of it changes nothing more.
        await fixture.Host.Scenario(s => { s.Post.Url($"/api/v1/stores/{store.Id}/sync"); s.WithBearerToken(token); s.StatusCodeShouldBe(202); });
        await fixture.WaitForSyncAsync(token, store.Id);
        await AssertEqualToRebuildAsync(store.Id, "after an incremental sync");
    }

    [Fact]
    public async Task a_store_filled_by_webhooks_alone_has_the_aggregates_of_its_rows()
    {
        var domain = $"hooks-{Guid.NewGuid():N}"[..16] + ".myshopify.com";
        var shop = ShopGenerator.Generate(92, 0, new ShopGeneratorOptions { Domain = domain, Name = "Webhooks Only", IanaTimezone = "Asia/Kolkata" });
        fixture.Shopify.State.AddShop(shop, "shpat_hooks");
        var (_, token) = await fixture.RegisterAsync();
        var store = await fixture.ConnectStoreAsync(token, domain, "shpat_hooks", apiSecret: XenoFixture.WebhookSecret);
        await fixture.WaitForSyncAsync(token, store.Id);
        var customer = shop.AddCustomer();
        for (var i = 0; i < 6; i++)
        {
            var order = shop.PlaceOrder(new NewOrder { Customer = i % 2 == 0 ? customer : null, ProcessedAt = shop.Clock.GetUtcNow().AddHours(-7 * i) });
            if (i == 2) shop.AddRefund(order.Id, quantity: 1);
        }
        await fixture.Shopify.State.FlushWebhooksAsync();
        await WaitProcessedAsync(store.Id);
        Assert.Equal(6L, Convert.ToInt64(await fixture.ScalarAsync(store.Id, "SELECT sum(orders) FROM daily_metrics")));
        await AssertEqualToRebuildAsync(store.Id, "after webhooks into an empty store");
    }

    private async Task AssertEqualToRebuildAsync(Guid storeId, string when)
    {
        var kept = await SnapshotAsync(storeId);
        await using (var conn = await TenantConnectionAsync(storeId))
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await ShopAggregates.RebuildAsync(conn, tx, storeId, default);
            await tx.CommitAsync();
        }
        var rebuilt = await SnapshotAsync(storeId);
        foreach (var table in Tables)
        {
            var missing = rebuilt[table].Except(kept[table]).Take(5).ToList();
            var extra = kept[table].Except(rebuilt[table]).Take(5).ToList();
            Assert.True(missing.Count == 0 && extra.Count == 0,
                $"{table} {when}: kept lacks [{string.Join("; ", missing)}], and has [{string.Join("; ", extra)}] that a rebuild does not");
        }
        Assert.NotEmpty(rebuilt["daily_metrics"]);
    }

    /// <summary>Every aggregate row of the store as text, numbers compared by value; rows of nothing but zeros left out.</summary>
    private async Task<Dictionary<string, List<string>>> SnapshotAsync(Guid storeId)
    {
        var snapshot = new Dictionary<string, List<string>>();
        await using var conn = await TenantConnectionAsync(storeId);
        foreach (var table in Tables)
        {
            await using var cmd = new NpgsqlCommand($"SELECT * FROM {table} WHERE tenant_id = @t", conn);
            cmd.Parameters.AddWithValue("t", storeId);
            await using var reader = await cmd.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                var values = Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : reader.GetValue(i) switch
                {
                    decimal d => d.ToString("0.############", CultureInfo.InvariantCulture),
                    int[] days => string.Join(',', days),
                    DateOnly day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    DateTime at => at.ToString("O", CultureInfo.InvariantCulture),
                    var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
                }).ToList();
                var numbers = Enumerable.Range(0, reader.FieldCount).Where(i => reader.GetFieldType(i) == typeof(decimal) || reader.GetFieldType(i) == typeof(int));
                if (table is "daily_metrics" or "product_daily" && numbers.All(i => reader.IsDBNull(i) || Convert.ToDecimal(reader.GetValue(i)) == 0)) continue;
                rows.Add(string.Join(" | ", values.Select((v, i) => $"{reader.GetName(i)}={v}")));
            }
            rows.Sort(StringComparer.Ordinal);
            snapshot[table] = rows;
        }
        return snapshot;
    }

    private async Task<NpgsqlConnection> TenantConnectionAsync(Guid storeId)
    {
        var conn = new NpgsqlConnection(fixture.OwnerConnectionString);
        await conn.OpenAsync();
        await using var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", conn);
        set.Parameters.AddWithValue("t", storeId.ToString());
        await set.ExecuteNonQueryAsync();
        return conn;
    }

    private async Task WaitProcessedAsync(Guid storeId)
    {
        for (var i = 0; i < 600; i++)
        {
            if (Convert.ToInt64(await fixture.ScalarAsync(storeId, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")) == 0) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("Webhooks were not processed.");
    }
}
