using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Xeno.Web.Infrastructure.Tenancy;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <summary>
    /// What Xeno keeps of a store's data as it lands, so that a dashboard never re-reads the store's whole history:
    /// figures per local day, per product and day, per customer and day, per customer for their whole history, the
    /// pairs of consecutive orders of each customer (for exact distinct-customer counts over any range) and the RFM
    /// group counts. Maintained by <c>ShopAggregates</c>; not EF entities (only SQL reads and writes them). A store's
    /// <c>aggregates_timezone</c> says which zone its aggregates' days were counted in (null: not built yet).
    /// </summary>
    public partial class Aggregates : Migration
    {
        private static readonly string[] Tables =
            ["daily_metrics", "product_daily", "customer_daily", "customer_stats", "customer_pairs", "customer_groups", "customer_windows"];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "aggregates_timezone",
                table: "stores",
                type: "text",
                nullable: true);
            // The local day the store's customer_windows end on.
            migrationBuilder.AddColumn<DateOnly>(
                name: "windows_day",
                table: "stores",
                type: "date",
                nullable: true);

            migrationBuilder.Sql("""
                CREATE TABLE daily_metrics (
                  tenant_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                  day date NOT NULL,
                  orders integer NOT NULL DEFAULT 0,
                  gross numeric NOT NULL DEFAULT 0,
                  discounts numeric NOT NULL DEFAULT 0,
                  shipping numeric NOT NULL DEFAULT 0,
                  taxes numeric NOT NULL DEFAULT 0,
                  returns numeric NOT NULL DEFAULT 0,
                  refunded_shipping numeric NOT NULL DEFAULT 0,
                  refunded_taxes numeric NOT NULL DEFAULT 0,
                  customer_orders integer NOT NULL DEFAULT 0,
                  customer_sales numeric NOT NULL DEFAULT 0,
                  customer_returns numeric NOT NULL DEFAULT 0,
                  new_customers integer NOT NULL DEFAULT 0,
                  abandoned_checkouts integer NOT NULL DEFAULT 0,
                  abandoned_value numeric NOT NULL DEFAULT 0,
                  customers_created integer NOT NULL DEFAULT 0,
                  prospects_converted integer NOT NULL DEFAULT 0,
                  PRIMARY KEY (tenant_id, day));

                CREATE TABLE product_daily (
                  tenant_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                  day date NOT NULL,
                  product_key bigint NOT NULL,
                  units_sold integer NOT NULL DEFAULT 0,
                  units_returned integer NOT NULL DEFAULT 0,
                  gross numeric NOT NULL DEFAULT 0,
                  discounts numeric NOT NULL DEFAULT 0,
                  returns numeric NOT NULL DEFAULT 0,
                  title text,
                  returned_title text,
                  PRIMARY KEY (tenant_id, day, product_key));

                CREATE TABLE customer_daily (
                  tenant_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                  customer_id bigint NOT NULL,
                  day date NOT NULL,
                  orders integer NOT NULL DEFAULT 0,
                  sales numeric NOT NULL DEFAULT 0,
                  returns numeric NOT NULL DEFAULT 0,
                  PRIMARY KEY (tenant_id, customer_id, day));
                CREATE INDEX ix_customer_daily_day ON customer_daily (tenant_id, day) INCLUDE (customer_id, orders, sales, returns);

                CREATE TABLE customer_stats (
                  tenant_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                  customer_id bigint NOT NULL,
                  first_order_at timestamptz NOT NULL,
                  first_day date NOT NULL,
                  orders integer NOT NULL,
                  net numeric NOT NULL,
                  days integer[] NOT NULL,
                  PRIMARY KEY (tenant_id, customer_id));
                CREATE INDEX ix_customer_stats_first_day ON customer_stats (tenant_id, first_day) INCLUDE (net);
                CREATE INDEX ix_customer_stats_net ON customer_stats (tenant_id, net) INCLUDE (first_day);

                -- Top customers of the trailing 7, 30, 90 and 365 days ending on the store's windows_day (its "today"),
                -- kept ranked, so the dashboard's usual ranges need no grouping at all.
                CREATE TABLE customer_windows (
                  tenant_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                  days smallint NOT NULL,
                  customer_id bigint NOT NULL,
                  orders integer NOT NULL,
                  net numeric NOT NULL,
                  PRIMARY KEY (tenant_id, days, customer_id));
                CREATE INDEX ix_customer_windows_rank ON customer_windows (tenant_id, days, net DESC, customer_id) INCLUDE (orders);

                CREATE TABLE customer_pairs (
                  tenant_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                  kind smallint NOT NULL,
                  res smallint NOT NULL,
                  p integer NOT NULL,
                  d integer NOT NULL,
                  n integer NOT NULL,
                  -- Resolution and first day lead: a range reads a few index ranges of (res, p), kinds side by side.
                  PRIMARY KEY (tenant_id, res, p, d, kind) INCLUDE (n));

                CREATE TABLE customer_groups (
                  tenant_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                  rfm_group text NOT NULL,
                  customers integer NOT NULL,
                  PRIMARY KEY (tenant_id, rfm_group));

                -- Prospects per day read customers by creation time.
                CREATE INDEX ix_customers_created_at ON customers (tenant_id, created_at);
                """);
            RowLevelSecurity.EnableFor(migrationBuilder, Tables);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX ix_customers_created_at;");
            foreach (var table in Tables) migrationBuilder.Sql($"DROP TABLE {table};");
            migrationBuilder.DropColumn(
                name: "aggregates_timezone",
                table: "stores");
            migrationBuilder.DropColumn(
                name: "windows_day",
                table: "stores");
        }
    }
}
