using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Tenancy;
using Xeno.Web.Tests.Infrastructure;

namespace Xeno.Web.Tests.Tenancy;

/// <summary>The two walls, tried as the role that requests and jobs run under.</summary>
[Collection(XenoCollection.Name)]
public sealed class RowLevelSecurityTests(XenoFixture fixture)
{
    private async Task<(Guid A, Guid B)> TwoStoresAsync()
    {
        var (_, token) = await fixture.RegisterAsync();
        var a = fixture.NewShop();
        var b = fixture.NewShop();
        return ((await fixture.ConnectStoreAsync(token, a.Domain, a.Token)).Id, (await fixture.ConnectStoreAsync(token, b.Domain, b.Token)).Id);
    }

    private async Task<NpgsqlConnection> OpenAsAppRoleAsync(Guid? tenant)
    {
        var conn = new NpgsqlConnection(fixture.AppConnectionString);
        await conn.OpenAsync();
        await using var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", conn);
        set.Parameters.AddWithValue("t", tenant?.ToString() ?? "");
        await set.ExecuteNonQueryAsync();
        return conn;
    }

    private static async Task<long> CountAsync(NpgsqlConnection conn, string sql, Guid? tenant = null)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        if (tenant is not null) cmd.Parameters.AddWithValue("t", tenant.Value);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task the_app_role_neither_owns_the_tables_nor_bypasses_rls()
    {
        await using var conn = await OpenAsAppRoleAsync(null);
        await using var cmd = new NpgsqlCommand("""
            SELECT r.rolsuper, r.rolbypassrls,
                   EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = 'public' AND t.tableowner = current_user)
            FROM pg_roles r WHERE r.rolname = current_user
            """, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.False(reader.GetBoolean(0), "superuser");
        Assert.False(reader.GetBoolean(1), "bypassrls");
        Assert.False(reader.GetBoolean(2), "owns a table");
    }

    [Fact]
    public async Task with_tenant_a_set_no_row_of_b_is_visible_and_writing_one_for_b_fails()
    {
        var (a, b) = await TwoStoresAsync();
        await using var conn = await OpenAsAppRoleAsync(a);

        Assert.Equal(1, await CountAsync(conn, "SELECT count(*) FROM store_credentials"));
        Assert.Equal(0, await CountAsync(conn, "SELECT count(*) FROM store_credentials WHERE tenant_id = @t", b));

        await using var insert = new NpgsqlCommand(
            "INSERT INTO store_credentials (tenant_id, encrypted_access_token, updated_at) VALUES (@t, 'x', now())", conn);
        insert.Parameters.AddWithValue("t", b);
        var error = await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState); // "new row violates row-level security policy"

        await using var update = new NpgsqlCommand("UPDATE store_credentials SET encrypted_access_token = 'x' WHERE tenant_id = @t", conn);
        update.Parameters.AddWithValue("t", b);
        Assert.Equal(0, await update.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task with_no_tenant_set_nothing_is_visible()
    {
        await TwoStoresAsync();
        await using var conn = await OpenAsAppRoleAsync(null);
        Assert.Equal(0, await CountAsync(conn, "SELECT count(*) FROM store_credentials"));

        await using var fresh = new NpgsqlConnection(fixture.AppConnectionString); // never set at all
        await fresh.OpenAsync();
        Assert.Equal(0, await CountAsync(fresh, "SELECT count(*) FROM store_credentials"));
    }

    [Fact]
    public async Task every_table_with_a_tenant_column_has_rls_enabled_and_forced()
    {
        await using var conn = new NpgsqlConnection(fixture.OwnerConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.schemaname = 'public')
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            WHERE c.relkind IN ('r', 'p')
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
            """, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var tables = new List<string>();
        while (await reader.ReadAsync())
        {
            var table = reader.GetString(0);
            tables.Add(table);
            Assert.True(reader.GetBoolean(1), $"{table}: RLS not enabled");
            Assert.True(reader.GetBoolean(2), $"{table}: RLS not forced");
            Assert.True(reader.GetBoolean(3), $"{table}: no policy");
        }
        Assert.Contains("store_credentials", tables);
    }

    [Fact]
    public async Task every_tenant_owned_entity_of_the_model_is_filtered_by_tenant()
    {
        await using var scope = fixture.Host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
        var tenantOwned = db.Model.GetEntityTypes().Where(t => typeof(ITenantOwned).IsAssignableFrom(t.ClrType)).ToList();
        Assert.NotEmpty(tenantOwned);
        Assert.All(tenantOwned, t => Assert.NotEmpty(t.GetDeclaredQueryFilters()));
    }

    [Fact]
    public async Task the_query_filter_shows_only_the_current_tenant_and_savechanges_refuses_other_tenants()
    {
        var (a, b) = await TwoStoresAsync();

        await using (var scope = fixture.Host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
            Assert.Empty(await db.StoreCredentials.ToListAsync()); // no tenant, no rows
            db.StoreCredentials.Add(new StoreCredential { TenantId = a, EncryptedAccessToken = "x" });
            await Assert.ThrowsAsync<TenantMismatchException>(() => db.SaveChangesAsync());
        }

        await using (var scope = fixture.Host.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(a);
            var db = scope.ServiceProvider.GetRequiredService<XenoDb>();
            var rows = await db.StoreCredentials.ToListAsync();
            Assert.Equal([a], rows.Select(r => r.TenantId));
            // Even with the filter ignored, the second wall shows nothing of B.
            Assert.Empty(await db.StoreCredentials.IgnoreQueryFilters().Where(c => c.TenantId == b).ToListAsync());

            db.StoreCredentials.Add(new StoreCredential { TenantId = b, EncryptedAccessToken = "x" });
            await Assert.ThrowsAsync<TenantMismatchException>(() => db.SaveChangesAsync());
        }
    }
}
