using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class WebhookQueue : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "next_attempt_at",
                table: "webhook_deliveries",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_open",
                table: "webhook_deliveries",
                columns: new[] { "tenant_id", "received_at", "id" },
                filter: "status IN ('pending', 'failed')");

            // Which stores have webhook work waiting: the one table a worker reads before it knows a tenant, so it has no
            // tenant column and no row-level security, and holds nothing of a merchant's data. Intake writes a store's row
            // in the transaction that stores its deliveries; a worker claims the row (FOR UPDATE SKIP LOCKED) and removes
            // it once nothing is due. No foreign key: a row for a store deleted meanwhile is claimed, found empty, removed.
            migrationBuilder.Sql("""
                CREATE TABLE webhook_pending (
                  store_id uuid PRIMARY KEY,
                  updated_at timestamp with time zone NOT NULL
                );
                """);

            // Bodies are JSON of a few to a few dozen KB, written once and read about once: lz4 compresses them for a
            // fraction of the CPU that PostgreSQL's default (pglz) takes, which counts at intake's rates. A server built
            // without lz4 (or older than 14) keeps its default.
            migrationBuilder.Sql("""
                DO $$
                BEGIN
                  EXECUTE 'ALTER TABLE webhook_deliveries ALTER COLUMN body SET COMPRESSION lz4';
                EXCEPTION WHEN feature_not_supported OR syntax_error THEN
                  RAISE NOTICE 'webhook bodies keep the default compression';
                END $$;
                """);

            // Deliveries stored before the queue: pending ones get their store marked, and failed ones that Hangfire was
            // still retrying are due again. Row-level security binds the owner too, so store by store.
            migrationBuilder.Sql("""
                DO $$
                DECLARE s uuid;
                BEGIN
                  FOR s IN SELECT id FROM stores LOOP
                    PERFORM set_config('app.tenant_id', s::text, true);
                    UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'failed' AND attempts < 10;
                    INSERT INTO webhook_pending (store_id, updated_at)
                    SELECT s, now() WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE status IN ('pending', 'failed'))
                    ON CONFLICT DO NOTHING;
                  END LOOP;
                  PERFORM set_config('app.tenant_id', '', true);
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE webhook_pending");
            migrationBuilder.Sql("""
                DO $$
                BEGIN
                  EXECUTE 'ALTER TABLE webhook_deliveries ALTER COLUMN body SET COMPRESSION DEFAULT';
                EXCEPTION WHEN feature_not_supported OR syntax_error THEN NULL;
                END $$;
                """);

            migrationBuilder.DropIndex(
                name: "ix_webhook_deliveries_open",
                table: "webhook_deliveries");

            migrationBuilder.DropColumn(
                name: "next_attempt_at",
                table: "webhook_deliveries");
        }
    }
}
