using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class AnalyzeAggregates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // A backfill rebuilds a store's aggregates whole (a million orders' customers in one pass), and the refund
            // details that follow refresh a few hundred customers at a time from them: with the statistics of before the
            // rebuild, the planner took customer_daily for nearly empty and scanned it once per customer, past the
            // statement timeout. Lent by the owner as xeno_analyze_store_tables is; no argument, no row read or changed.
            migrationBuilder.Sql("""
                CREATE FUNCTION xeno_analyze_aggregate_tables() RETURNS void
                LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS
                $$ ANALYZE customer_daily, customer_stats, customer_pairs, customer_windows, customer_groups, daily_metrics, product_daily $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION xeno_analyze_aggregate_tables()");
        }
    }
}
