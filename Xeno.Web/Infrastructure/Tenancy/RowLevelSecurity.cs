using Microsoft.EntityFrameworkCore.Migrations;

namespace Xeno.Web.Infrastructure.Tenancy;

/// <summary>Second wall, in migrations: every tenant-owned table gets row-level security, enabled and
/// forced (so the owner is held too), with one policy on the connection's <c>app.tenant_id</c>. With no
/// tenant set the setting is empty, NULLIF turns it into NULL, and no row matches.</summary>
public static class RowLevelSecurity
{
    public static void EnableFor(MigrationBuilder migration, params string[] tables)
    {
        foreach (var table in tables)
        {
            migration.Sql($"""
                ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
                ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
                CREATE POLICY tenant_isolation ON {table}
                  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
                  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
                """);
        }
    }
}
