using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xeno.ShopifyServer;
using Xeno.Web.Features.Auth;
using Xeno.Web.Features.Stores;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Web;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Hardening;

/// <summary>What a leaked app password, an injection, or a database dump can reach: no password hash, no key, no
/// migration history to forge; and a serving process that never held the owner's credentials.</summary>
[Collection(XenoCollection.Name)]
public sealed class DatabaseRolesTests(XenoFixture fixture)
{
    [Theory]
    [InlineData("SELECT count(*) FROM user_passwords")]
    [InlineData("SELECT count(*) FROM data_protection_keys")]
    [InlineData("SELECT count(*) FROM app_secrets")]
    [InlineData("INSERT INTO \"__EFMigrationsHistory\" VALUES ('99999999999999_Forged', '10.0.0')")]
    [InlineData("DELETE FROM \"__EFMigrationsHistory\"")]
    [InlineData("INSERT INTO users (id, email, token_version, created_at, is_operator) VALUES (gen_random_uuid(), 'x@example.com', 0, now(), true)")]
    public async Task the_app_role_that_runs_requests_and_jobs_is_refused(string sql)
    {
        await using var conn = new NpgsqlConnection(fixture.AppConnectionString);
        await conn.OpenAsync();
        // Rolled back whatever happens, so that a grant gone wrong cannot damage the shared database.
        await using var tx = await conn.BeginTransactionAsync();
        var e = await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand(sql, conn, tx).ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, e.SqlState);
    }

    [Fact]
    public async Task the_app_role_reads_accounts_but_no_hash_is_on_them()
    {
        await fixture.RegisterAsync();
        await using var conn = new NpgsqlConnection(fixture.AppConnectionString);
        await conn.OpenAsync();
        await using var reader = await new NpgsqlCommand("SELECT * FROM users LIMIT 1", conn).ExecuteReaderAsync();
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        Assert.Contains("email", columns);
        Assert.DoesNotContain(columns, c => c.Contains("password") || c.Contains("hash"));
    }

    [Fact]
    public async Task every_key_in_the_key_ring_is_encrypted_and_a_wrong_kek_opens_none()
    {
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        await fixture.ConnectStoreAsync(token, domain, shopToken); // encrypts a token, so the ring has a key

        var rows = await KeyRingRowsAsync();
        Assert.NotEmpty(rows);
        foreach (var xml in rows)
        {
            Assert.Contains("encryptedSecret", xml);
            Assert.DoesNotContain("masterKey", xml); // the key material's element, present only in the clear
        }

        var wrong = Services(new KeyEncryptionKeys(RandomNumberGenerator.GetBytes(32), []));
        var encrypted = XElement.Parse(rows[0]).Descendants().First(e => e.Name.LocalName == "encryptedKey");
        Assert.Throws<CryptographicException>(() => new KekXmlDecryptor(wrong).Decrypt(encrypted));
    }

    [Fact]
    public async Task a_key_an_earlier_xeno_stored_in_the_clear_is_encrypted_in_place_and_still_opens()
    {
        // An earlier Xeno's key: one of this ring's, decrypted back to what Data Protection writes without an encryptor.
        var keys = fixture.Host.Services.GetRequiredService<KeyEncryptionKeys>();
        var (_, token) = await fixture.RegisterAsync();
        var (domain, shopToken) = fixture.NewShop();
        await fixture.ConnectStoreAsync(token, domain, shopToken);
        var clear = XElement.Parse((await KeyRingRowsAsync())[0]);
        var secret = clear.Descendants().First(e => e.Name.LocalName == "encryptedSecret");
        var material = new KekXmlDecryptor(Services(keys)).Decrypt(secret.Elements().Single());
        secret.ReplaceWith(material);
        var keyId = Guid.NewGuid();
        clear.SetAttributeValue("id", keyId);
        Assert.Contains("masterKey", clear.ToString());

        await using var scope = fixture.Host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecretsDb>();
        db.DataProtectionKeys.Add(new() { FriendlyName = "key-" + keyId, Xml = clear.ToString(SaveOptions.DisableFormatting) });
        await db.SaveChangesAsync();

        Assert.True(await KeyRing.ProtectClearKeysAsync(db, keys) >= 1);
        var stored = XElement.Parse(await db.DataProtectionKeys.Where(k => k.FriendlyName == "key-" + keyId).Select(k => k.Xml!).SingleAsync());
        Assert.DoesNotContain("masterKey", stored.ToString());
        var reopened = new KekXmlDecryptor(Services(keys)).Decrypt(stored.Descendants().First(e => e.Name.LocalName == "encryptedKey"));
        Assert.Equal(material.ToString(), reopened.ToString());
        db.DataProtectionKeys.RemoveRange(db.DataProtectionKeys.Where(k => k.FriendlyName == "key-" + keyId));
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task a_web_process_without_the_owners_credentials_serves_and_the_workers_sync_what_it_connects()
    {
        var shop = ShopGenerator.Generate(seed: 41, orderCount: 40, new ShopGeneratorOptions { Domain = $"web-{Guid.NewGuid():N}"[..16] + ".myshopify.com" });
        var shopToken = "shpat_" + Guid.NewGuid().ToString("N");
        fixture.Shopify.State.AddShop(shop, shopToken);

        await using var web = await XenoProcess.ServeAsync("--role web",
        [
            ("ASPNETCORE_ENVIRONMENT", "Testing"),
            ("ConnectionStrings__XenoApp", fixture.AppConnectionString),
            ("ConnectionStrings__XenoSecrets", fixture.SecretsConnectionString),
            ("Jwt__SigningKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
            ("DataProtection__KeyEncryptionKey", XenoFixture.KeyEncryptionKey),
            ("Shopify__ApiBaseUrl", fixture.Shopify.ApiBaseUrl),
        ]);
        using var http = web.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

        var email = XenoFixture.UniqueEmail();
        var registered = await http.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "correct horse battery" });
        var auth = (await login.Content.ReadFromJsonAsync<AuthResponse>())!;
        http.DefaultRequestHeaders.Authorization = new("Bearer", auth.Token);

        var connected = await http.PostAsJsonAsync("/api/v1/stores", new { shopDomain = shop.MyshopifyDomain, accessToken = shopToken });
        Assert.Equal(HttpStatusCode.Created, connected.StatusCode);
        var store = (await connected.Content.ReadFromJsonAsync<StoreResponse>())!;

        // The sync it queued is run by the other process's workers, which decrypt the token this one stored.
        var deadline = DateTime.UtcNow.AddMinutes(3);
        Features.Sync.GetSyncStatus.Response status;
        do
        {
            await Task.Delay(300);
            status = (await http.GetFromJsonAsync<Features.Sync.GetSyncStatus.Response>($"/api/v1/stores/{store.Id}/sync"))!;
        } while ((status.LastRun is null || status.State is not ("idle" or "failed")) && DateTime.UtcNow < deadline);
        Assert.Equal("succeeded", status.LastRun?.Status);
        Assert.Equal(shop.Orders.Count, status.Totals.Orders);
    }

    private async Task<List<string>> KeyRingRowsAsync()
    {
        await using var conn = new NpgsqlConnection(fixture.OwnerConnectionString);
        await conn.OpenAsync();
        await using var reader = await new NpgsqlCommand("SELECT xml FROM data_protection_keys ORDER BY id", conn).ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    private static ServiceProvider Services(KeyEncryptionKeys keys) => new ServiceCollection().AddSingleton(keys).BuildServiceProvider();
}
