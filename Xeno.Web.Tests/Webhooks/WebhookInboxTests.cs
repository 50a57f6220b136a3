using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Xeno.Web.Features.Stores;
using Xeno.Web.Features.Webhooks;
using Xeno.Web.Tests.Infrastructure;
using static Xeno.Web.Tests.Webhooks.WebhookSender;

namespace Xeno.Web.Tests.Webhooks;

/// <summary>The inbox as a queue: deliveries stored together, claimed by store, applied in batches with a savepoint
/// each, exactly once, whatever fails or is killed on the way.</summary>
[Collection(XenoCollection.Name)]
public sealed class WebhookInboxTests(XenoFixture fixture)
{
    private async Task<(string Token, StoreResponse Store)> ConnectedStoreAsync()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
        return (token, store);
    }

    private async Task<long> CountAsync(Guid storeId, string sql) => Convert.ToInt64(await fixture.ScalarAsync(storeId, sql), CultureInfo.InvariantCulture);

    private Task WaitAppliedAsync(Guid storeId) => WaitUntilAsync(
        async () => await CountAsync(storeId, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") == 0, "the deliveries to be applied");

    [Fact]
    public async Task many_deliveries_for_several_stores_at_once_are_each_applied_once_with_their_data()
    {
        var stores = new List<StoreResponse>();
        for (var s = 0; s < 4; s++) stores.Add((await ConnectedStoreAsync()).Store);
        var orderIds = stores.ToDictionary(s => s.Id, s => Enumerable.Range(1, 40).Select(i => 7_100_000_000_000L + stores.IndexOf(s) * 1_000 + i).ToList());
        static decimal Total(long orderId) => 10m + orderId % 1_000 + 0.25m;

        // Interleaved across the stores, many at once, as a busy minute of Shopify looks.
        var random = new Random(7);
        var posts = stores.SelectMany(s => orderIds[s.Id].Select(id => (s.ShopDomain, Topic: "orders/create", Body: Order(id, Total(id))))
                .Concat(Enumerable.Range(1, 10).Select(i => (s.ShopDomain, Topic: "customers/data_request", Body: DataRequest(s.ShopDomain, i, 500 + i)))))
            .OrderBy(_ => random.Next()).ToList();
        var answers = new HttpStatusCode[posts.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, posts.Count), new ParallelOptions { MaxDegreeOfParallelism = 24 },
            async (i, _) => answers[i] = await PostAsync(fixture, posts[i].ShopDomain, posts[i].Topic, posts[i].Body));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a));

        foreach (var store in stores)
        {
            await WaitAppliedAsync(store.Id);
            Assert.Equal(50, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed' AND attempts = 1"));
            Assert.Equal(40, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
            Assert.Equal(orderIds[store.Id].Sum(Total), (decimal)(await fixture.ScalarAsync(store.Id, "SELECT sum(total_price) FROM orders"))!);
            Assert.Equal(orderIds[store.Id].Sum(Total), (decimal)(await fixture.ScalarAsync(store.Id,
                $"SELECT sum(total_price) FROM orders WHERE id = ANY(ARRAY[{string.Join(',', orderIds[store.Id])}]::bigint[])"))!);
            Assert.Equal(40 * 5, await CountAsync(store.Id, "SELECT count(*) FROM order_lines"));
            Assert.Equal(10, await CountAsync(store.Id, "SELECT count(*) FROM customer_data_requests"));
        }
    }

    [Fact]
    public async Task two_workers_never_apply_one_delivery_twice()
    {
        // A second worker process, as another machine would run it, next to the host's own loops.
        var second = ActivatorUtilities.CreateInstance<InboxWorker>(fixture.Host.Services, Options.Create(new WebhookOptions { Workers = 3, BatchSize = 7 }));
        await second.StartAsync(CancellationToken.None);
        try
        {
            var stores = new List<StoreResponse>();
            for (var s = 0; s < 3; s++) stores.Add((await ConnectedStoreAsync()).Store);
            // A data request adds a row each time it is applied: twice applied would show as two rows.
            var posts = Enumerable.Range(1, 60).SelectMany(i => stores.Select(s => (s.ShopDomain, Body: DataRequest(s.ShopDomain, i, 9_000 + i)))).ToList();
            await Parallel.ForEachAsync(posts, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (p, _) =>
                Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, p.ShopDomain, "customers/data_request", p.Body)));

            foreach (var store in stores)
            {
                await WaitAppliedAsync(store.Id);
                Assert.Equal(60, await CountAsync(store.Id, "SELECT count(*) FROM customer_data_requests"));
                Assert.Equal(60, await CountAsync(store.Id, "SELECT count(DISTINCT shopify_request_id) FROM customer_data_requests"));
                Assert.Equal(60, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed' AND attempts = 1"));
            }
        }
        finally
        {
            await second.StopAsync(CancellationToken.None);
            second.Dispose();
        }
    }

    [Fact]
    public async Task the_same_delivery_sent_twenty_times_at_once_is_stored_and_applied_once()
    {
        var (_, store) = await ConnectedStoreAsync();
        var (_, other) = await ConnectedStoreAsync();
        var body = DataRequest(store.ShopDomain, 77, 7_007);
        var eventId = Guid.NewGuid().ToString();
        var webhookId = Guid.NewGuid().ToString();
        // Copies of one delivery, and other stores' deliveries around them, so that copies share intake's transactions.
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).SelectMany(i => new[]
        {
            PostAsync(fixture, store.ShopDomain, "customers/data_request", body, eventId, webhookId),
            PostAsync(fixture, other.ShopDomain, "customers/data_request", DataRequest(other.ShopDomain, i, 8_000 + i)),
        }));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a));
        // Shopify's retry of the same event under a new delivery id.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/data_request", body, eventId));

        await WaitAppliedAsync(store.Id);
        await WaitAppliedAsync(other.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries"));
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM customer_data_requests"));
        Assert.Equal(20, await CountAsync(other.Id, "SELECT count(*) FROM customer_data_requests"));
    }

    [Fact]
    public async Task repeats_of_a_delivery_arriving_while_it_is_applied_are_all_answered_200_and_change_nothing()
    {
        var (_, store) = await ConnectedStoreAsync();
        // Shopify resending while the first copy is being applied: a repeat then waits, inside intake's transaction, for the
        // worker that is updating the stored copy. Many copies in a stream make that moment likely.
        for (var round = 1; round <= 12; round++)
        {
            var (eventId, webhookId, body) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), DataRequest(store.ShopDomain, round, round));
            var answers = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
            await Parallel.ForEachAsync(Enumerable.Range(0, 80), new ParallelOptions { MaxDegreeOfParallelism = 12 }, async (_, _) =>
                answers.Add(await PostAsync(fixture, store.ShopDomain, "customers/data_request", body, eventId, webhookId)));
            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a));
        }
        await WaitAppliedAsync(store.Id);
        Assert.Equal(12, await CountAsync(store.Id, "SELECT count(*) FROM customer_data_requests"));
        Assert.Equal(12, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed' AND attempts = 1"));
    }

    /// <summary>Stores deliveries the way intake does, all in one transaction with the store's mark, so that the first
    /// worker to come takes them as one batch.</summary>
    private async Task StoreTogetherAsync(StoreResponse store, params (string Topic, string Body)[] deliveries)
    {
        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var tenant = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true)", connection, transaction))
        {
            tenant.Parameters.AddWithValue("t", store.Id.ToString());
            await tenant.ExecuteNonQueryAsync();
        }
        var at = DateTimeOffset.UtcNow;
        for (var i = 0; i < deliveries.Length; i++)
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO webhook_deliveries (id, tenant_id, topic, shop_domain, body, received_at, status, attempts)
                VALUES (@id, @t, @topic, @shop, @body, @at, 'pending', 0)
                """, connection, transaction);
            insert.Parameters.AddWithValue("id", Guid.CreateVersion7());
            insert.Parameters.AddWithValue("t", store.Id);
            insert.Parameters.AddWithValue("topic", deliveries[i].Topic);
            insert.Parameters.AddWithValue("shop", store.ShopDomain);
            insert.Parameters.AddWithValue("body", deliveries[i].Body);
            insert.Parameters.AddWithValue("at", at.AddMilliseconds(i));
            await insert.ExecuteNonQueryAsync();
        }
        await using (var mark = new NpgsqlCommand(
            "INSERT INTO webhook_pending (store_id, updated_at) VALUES (@t, now()) ON CONFLICT DO NOTHING; NOTIFY xeno_webhooks", connection, transaction))
        {
            mark.Parameters.AddWithValue("t", store.Id);
            await mark.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    private async Task SweepAsync()
    {
        await using var scope = fixture.Host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ProcessWebhook>().SweepAsync(CancellationToken.None);
    }

    private async Task SetAsync(Guid storeId, string sql) => await fixture.ScalarAsync(storeId, sql);

    [Fact]
    public async Task order_deliveries_applied_together_keep_the_newest_version_of_each_order_whatever_their_order()
    {
        var (_, store) = await ConnectedStoreAsync();
        const long id = 7_250_000_000_001;
        static string Version(decimal total, string updatedAt)
        {
            var body = System.Text.Json.Nodes.JsonNode.Parse(Order(id, total))!;
            body["updated_at"] = updatedAt;
            return body.ToJsonString();
        }
        var lines = System.Text.Json.Nodes.JsonNode.Parse(Order(id, 1m))!["line_items"]!.AsArray().Count;

        // One batch: three versions of an order (the newest in the middle), a product between them, a second order.
        await StoreTogetherAsync(store,
            ("orders/create", Version(10m, "2026-11-30T10:00:00-05:00")),
            ("orders/updated", Version(30m, "2026-11-30T12:00:00-05:00")),
            ("products/create", Encoding.UTF8.GetString(Fixture("webhook-products-create.json"))),
            ("orders/updated", Version(20m, "2026-11-30T11:00:00-05:00")),
            ("orders/create", Encoding.UTF8.GetString(Order(7_250_000_000_002, 5m))));
        await WaitAppliedAsync(store.Id);

        Assert.Equal(5, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'"));
        Assert.Equal(2, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
        Assert.Equal(30m, (decimal)(await fixture.ScalarAsync(store.Id, $"SELECT total_price FROM orders WHERE id = {id}"))!);
        Assert.Equal(lines, await CountAsync(store.Id, $"SELECT count(*) FROM order_lines WHERE order_id = {id}"));
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM products"));
        Assert.Equal(DateTimeOffset.Parse("2026-11-30T17:00:00Z", CultureInfo.InvariantCulture),
            (DateTime)(await fixture.ScalarAsync(store.Id, $"SELECT shopify_updated_at FROM orders WHERE id = {id}"))!);
    }

    [Fact]
    public async Task a_delivery_that_fails_does_not_hold_back_its_batch_and_is_tried_again()
    {
        var (_, store) = await ConnectedStoreAsync();
        await StoreTogetherAsync(store,
            ("orders/create", Encoding.UTF8.GetString(Order(7_200_000_000_001, 12.5m))),
            ("orders/delete", "{\"id\": \"not a number\"}"),
            ("orders/create", Encoding.UTF8.GetString(Order(7_200_000_000_002, 20m))));
        await WaitAppliedAsync(store.Id);

        // The two orders are in; the broken delivery alone failed, with its error and a time to try again.
        Assert.Equal(2, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
        Assert.Equal(2, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'"));
        Assert.Equal(1, await CountAsync(store.Id, """
            SELECT count(*) FROM webhook_deliveries
            WHERE status = 'failed' AND attempts = 1 AND last_error LIKE 'FormatException%' AND next_attempt_at > received_at
            """));

        // Whatever made it fail goes away (here its body is mended), and once it is due it is tried again and applied.
        await SetAsync(store.Id, """
            UPDATE webhook_deliveries SET body = '{"id": 7200000000001}', next_attempt_at = now() - interval '1 second' WHERE status = 'failed'
            """);
        await SweepAsync();
        await WaitUntilAsync(async () => await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed'") == 0, "the retry");
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE topic = 'orders/delete' AND status = 'processed' AND attempts = 2 AND last_error IS NULL"));
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM orders WHERE id = 7200000000001 AND deleted_at IS NOT NULL"));
    }

    [Fact]
    public async Task a_delivery_that_fails_every_try_stops_after_the_tenth_and_stays_failed()
    {
        var (_, store) = await ConnectedStoreAsync();
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "customers/redact", Encoding.UTF8.GetBytes($"{{\"shop_domain\": \"{store.ShopDomain}\", \"customer\": {{}}}}")));
        await WaitAppliedAsync(store.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND attempts = 1 AND next_attempt_at IS NOT NULL"));

        // Its ninth failure is behind it and its tenth try is due.
        await SetAsync(store.Id, "UPDATE webhook_deliveries SET attempts = 9, next_attempt_at = now() - interval '1 second'");
        await SweepAsync();
        await WaitUntilAsync(async () => await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE attempts = 10") == 1, "the tenth try");
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND next_attempt_at IS NULL AND last_error IS NOT NULL"));

        // Nothing is due any more: the sweeper leaves the store unmarked.
        await SweepAsync();
        Assert.Equal(0, await CountAsync(store.Id, $"SELECT count(*) FROM webhook_pending WHERE store_id = '{store.Id}'"));
    }

    [Fact]
    public async Task a_batch_that_fails_as_a_whole_counts_its_tries_and_its_deliveries_are_applied_once_the_cause_is_gone()
    {
        var (_, store) = await ConnectedStoreAsync();
        // The batch's common write (the store's data version) fails for this store while the flag is up, as a broken
        // aggregate or a full disk would: no savepoint of a delivery catches it, the whole batch rolls back.
        var flag = $"poison_{store.Id:N}";
        await OwnerAsync($"""
            CREATE TABLE {flag} (on_ boolean);
            INSERT INTO {flag} VALUES (true);
            CREATE FUNCTION {flag}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM {flag}) THEN RAISE EXCEPTION 'the batch breaks'; END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER {flag} BEFORE UPDATE OF data_version ON stores FOR EACH ROW WHEN (NEW.id = '{store.Id}') EXECUTE FUNCTION {flag}();
            GRANT SELECT ON {flag} TO PUBLIC;
            """);
        try
        {
            await StoreTogetherAsync(store,
                ("orders/create", Encoding.UTF8.GetString(Order(7_300_000_000_001, 10m))),
                ("orders/create", Encoding.UTF8.GetString(Order(7_300_000_000_002, 20m))),
                ("orders/create", Encoding.UTF8.GetString(Order(7_300_000_000_003, 30m))));

            // Each try is counted although the batch rolled back, with the error and a time to try again.
            await WaitUntilAsync(async () => await CountAsync(store.Id, """
                SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND attempts >= 1 AND last_error LIKE '%the batch breaks%' AND next_attempt_at IS NOT NULL
                """) == 3, "the failed try to be counted");
            Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM orders"));

            await OwnerAsync($"DELETE FROM {flag}");
            await SetAsync(store.Id, "UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second' WHERE status = 'failed'");
            await SweepAsync();
            await WaitUntilAsync(async () => await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed'") == 3, "the retries");
            Assert.Equal(60m, (decimal)(await fixture.ScalarAsync(store.Id, "SELECT sum(total_price) FROM orders"))!);
        }
        finally
        {
            await OwnerAsync($"DROP TRIGGER {flag} ON stores; DROP FUNCTION {flag}(); DROP TABLE {flag};");
        }
    }

    private async Task OwnerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A connection of the app role holding the store's row (no key update: the foreign keys of intake's rows may still check it).</summary>
    private async Task<(NpgsqlConnection Connection, NpgsqlTransaction Transaction)> HoldStoreRowAsync(Guid storeId, string mode)
    {
        var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var hold = new NpgsqlCommand($"SELECT 1 FROM stores WHERE id = @id {mode}", connection, transaction);
        hold.Parameters.AddWithValue("id", storeId);
        await hold.ExecuteNonQueryAsync();
        return (connection, transaction);
    }

    /// <summary>The backend of <paramref name="applicationName"/> now waiting for a lock that <paramref name="holder"/> holds, if any.</summary>
    private async Task<int?> WaitingBackendAsync(string applicationName, NpgsqlConnection holder)
    {
        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        await using var find = new NpgsqlCommand(
            "SELECT pid FROM pg_stat_activity WHERE application_name = @app AND @holder = ANY(pg_blocking_pids(pid)) LIMIT 1", connection);
        find.Parameters.AddWithValue("app", applicationName);
        find.Parameters.AddWithValue("holder", holder.ProcessID);
        return await find.ExecuteScalarAsync() as int?;
    }

    /// <summary>Ends a backend as a killed process would: its transaction rolls back.</summary>
    private async Task KillAsync(int pid)
    {
        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        await using var kill = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", connection);
        kill.Parameters.AddWithValue("pid", pid);
        await kill.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task a_killed_batch_leaves_its_deliveries_pending_and_they_are_applied_later()
    {
        var (token, store) = await ConnectedStoreAsync();
        await fixture.WaitForSyncAsync(token, store.Id); // the sync writes the store's row too; out of the way first
        var (holder, hold) = await HoldStoreRowAsync(store.Id, "FOR NO KEY UPDATE");
        await using (holder)
        {
            for (var i = 1; i <= 3; i++)
                Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "orders/create", Order(7_300_000_000_000 + i, 5m * i)));

            // A worker has applied the batch and waits to move the store's data version: killed there, with everything done but the commit.
            int? worker = null;
            await WaitUntilAsync(async () => (worker = await WaitingBackendAsync("xeno-webhook-worker", holder)) is not null, "a worker inside the batch");
            await KillAsync(worker!.Value);

            Assert.Equal(3, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0"));
            Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
            Assert.Equal(1, await CountAsync(store.Id, $"SELECT count(*) FROM webhook_pending WHERE store_id = '{store.Id}'"));
            await hold.RollbackAsync();
        }

        // Another worker takes the batch and applies it, once.
        await WaitAppliedAsync(store.Id);
        Assert.Equal(3, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries WHERE status = 'processed' AND attempts = 1"));
        Assert.Equal(30m, (decimal)(await fixture.ScalarAsync(store.Id, "SELECT sum(total_price) FROM orders"))!);
    }

    [Fact]
    public async Task intake_answers_200_only_once_the_delivery_is_committed()
    {
        var (token, store) = await ConnectedStoreAsync();
        await fixture.WaitForSyncAsync(token, store.Id);
        var (holder, hold) = await HoldStoreRowAsync(store.Id, "FOR UPDATE"); // intake's insert checks its foreign key on this row
        Task<HttpStatusCode> post;
        await using (holder)
        {
            post = PostAsync(fixture, store.ShopDomain, "orders/create", Order(7_400_000_000_001, 9m));
            await WaitUntilAsync(async () => await WaitingBackendAsync("xeno-webhook-intake", holder) is not null, "intake's insert");

            // The insert is written but not committed: no answer yet, and nothing to see.
            Assert.False(post.IsCompleted);
            Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries"));
            await hold.RollbackAsync();
        }
        Assert.Equal(HttpStatusCode.OK, await post);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries")); // committed before the 200
        await WaitAppliedAsync(store.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task a_delivery_intake_could_not_store_is_answered_503_and_its_retry_is_stored()
    {
        var (token, store) = await ConnectedStoreAsync();
        await fixture.WaitForSyncAsync(token, store.Id);
        var body = Order(7_500_000_000_001, 11m);
        var (eventId, webhookId) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        var (holder, hold) = await HoldStoreRowAsync(store.Id, "FOR UPDATE");
        await using (holder)
        {
            var post = PostAsync(fixture, store.ShopDomain, "orders/create", body, eventId, webhookId);
            // Intake's transaction dies before it commits (each time it is tried).
            while (!post.IsCompleted)
            {
                if (await WaitingBackendAsync("xeno-webhook-intake", holder) is { } pid) await KillAsync(pid);
                await Task.WhenAny(post, Task.Delay(50));
            }
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await post);
            Assert.Equal(0, await CountAsync(store.Id, "SELECT count(*) FROM webhook_deliveries"));
            await hold.RollbackAsync();
        }

        // Shopify sends it again: stored, applied.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, store.ShopDomain, "orders/create", body, eventId, webhookId));
        await WaitAppliedAsync(store.Id);
        Assert.Equal(1, await CountAsync(store.Id, "SELECT count(*) FROM orders"));
    }

    private async Task<HttpStatusCode> ConnectAgainAsync(string token, string domain, string shopToken, string? apiSecret)
    {
        var result = await fixture.Host.Scenario(s =>
        {
            s.Post.Json(new { shopDomain = domain, accessToken = shopToken, apiSecret }).ToUrl("/api/v1/stores");
            s.WithBearerToken(token);
            s.StatusCodeShouldBe(200); // the account's store, updated
        });
        return (HttpStatusCode)result.Context.Response.StatusCode;
    }

    [Fact]
    public async Task a_new_app_secret_counts_at_once_after_a_reconnect_and_the_old_one_no_longer()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        var store = await fixture.ConnectStoreAsync(token, domain, shopToken, apiSecret: "first-app-secret");
        // Signed with the store's own app's secret: accepted (and that secret is now in intake's memory).
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, domain, "customers/data_request", DataRequest(domain, 1, 1), secret: "first-app-secret"));

        Assert.Equal(HttpStatusCode.OK, await ConnectAgainAsync(token, domain, shopToken, "second-app-secret"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, domain, "customers/data_request", DataRequest(domain, 2, 2), secret: "second-app-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(fixture, domain, "customers/data_request", DataRequest(domain, 3, 3), secret: "first-app-secret"));
        await WaitAppliedAsync(store.Id);
        Assert.Equal(2, await CountAsync(store.Id, "SELECT count(*) FROM customer_data_requests"));
    }

    [Fact]
    public async Task a_store_deleted_after_intake_remembered_it_keeps_nothing_and_connected_again_gets_its_deliveries()
    {
        var (_, token) = await fixture.RegisterAsync();
        async Task<(string Domain, string ShopToken, StoreResponse Store)> RememberedStoreAsync()
        {
            var (domain, shopToken) = fixture.NewShop();
            var store = await fixture.ConnectStoreAsync(token, domain, shopToken);
            Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, domain, "customers/data_request", DataRequest(domain, 1, 1))); // intake now knows it
            await fixture.WaitForSyncAsync(token, store.Id); // deleting a store while its sync writes can deadlock; not this test's subject
            await fixture.Host.Scenario(s => { s.Delete.Url($"/api/v1/stores/{store.Id}"); s.WithBearerToken(token); s.StatusCodeShouldBe(204); });
            return (domain, shopToken, store);
        }

        // Deleted: as for any shop no account connected, 200 and nothing kept.
        var (gone, _, goneStore) = await RememberedStoreAsync();
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, gone, "customers/data_request", DataRequest(gone, 2, 2)));
        Assert.Equal(0, await CountAsync(goneStore.Id, "SELECT count(*) FROM webhook_deliveries"));

        // Connected again (a new store): its deliveries land there, whatever intake remembered of the old one.
        var (back, shopToken, first) = await RememberedStoreAsync();
        var second = await fixture.ConnectStoreAsync(token, back, shopToken);
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(fixture, back, "customers/data_request", DataRequest(back, 3, 3)));
        await WaitAppliedAsync(second.Id);
        Assert.Equal(1, await CountAsync(second.Id, "SELECT count(*) FROM customer_data_requests"));
        Assert.Equal(0, await CountAsync(first.Id, "SELECT count(*) FROM webhook_deliveries"));
    }
}
