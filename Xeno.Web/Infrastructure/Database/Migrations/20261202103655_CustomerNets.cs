using Microsoft.EntityFrameworkCore.Migrations;
using Xeno.Web.Infrastructure.Tenancy;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <summary>
    /// Customers counted by lifetime net sales in buckets of two significant digits, so that the VIP threshold (the
    /// 90th percentile of lifetime net) is found by summing a few hundred buckets and walking the one it falls in,
    /// instead of walking the top tenth of a store's customers on every dashboard (26,000 index entries at a million
    /// orders). A bucket is named by its floor, <c>xeno_net_floor(net)</c>: every net under 0.1 (none, negative) is
    /// bucket 0, and the floor never exceeds the net, so the customers between two buckets' floors are the lower one's.
    /// </summary>
    public partial class CustomerNets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION xeno_net_floor(v numeric) RETURNS numeric
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN CASE WHEN v < 0.1 THEN 0 ELSE trunc(v, 2 - length(trunc(v)::text)) END;

                CREATE TABLE customer_nets (
                  tenant_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                  lo numeric NOT NULL,
                  customers integer NOT NULL,
                  net numeric NOT NULL,
                  PRIMARY KEY (tenant_id, lo));

                -- The same by the local day of each customer's first order: the New segment (first seen in the last 30
                -- days) and those of them above the VIP threshold come from 30 days of it.
                CREATE TABLE customer_first_day_nets (
                  tenant_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                  first_day date NOT NULL,
                  lo numeric NOT NULL,
                  customers integer NOT NULL,
                  net numeric NOT NULL,
                  PRIMARY KEY (tenant_id, first_day, lo));

                -- A refresh deletes the buckets it emptied: found through these, not by reading all of a store's buckets.
                CREATE INDEX ix_customer_nets_empty ON customer_nets (tenant_id) WHERE customers = 0;
                CREATE INDEX ix_customer_first_day_nets_empty ON customer_first_day_nets (tenant_id) WHERE customers = 0;

                -- Filled by a rebuild of every store's aggregates, which BuildAggregates runs within a minute (row-level
                -- security hides the stores' rows from a migration, which sets no tenant).
                UPDATE stores SET aggregates_timezone = NULL;

                CREATE OR REPLACE FUNCTION xeno_analyze_aggregate_tables() RETURNS void
                LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS
                $$ ANALYZE customer_daily, customer_stats, customer_nets, customer_first_day_nets, customer_pairs, customer_windows, customer_groups, daily_metrics, product_daily $$;
                """);
            RowLevelSecurity.EnableFor(migrationBuilder, "customer_nets", "customer_first_day_nets");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TABLE customer_nets, customer_first_day_nets;
                DROP FUNCTION xeno_net_floor(numeric);
                CREATE OR REPLACE FUNCTION xeno_analyze_aggregate_tables() RETURNS void
                LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS
                $$ ANALYZE customer_daily, customer_stats, customer_pairs, customer_windows, customer_groups, daily_metrics, product_daily $$;
                """);
        }
    }
}
