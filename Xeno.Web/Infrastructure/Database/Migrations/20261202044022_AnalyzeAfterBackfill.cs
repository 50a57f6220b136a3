using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class AnalyzeAfterBackfill : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // A backfill COPYs a store's whole history in a minute, long before autovacuum analyzes the tables, and the
            // aggregates are built from it at once: without statistics the planner takes a million-row tenant for a
            // handful of rows. Only a table's owner may ANALYZE it (before PostgreSQL 17), so the owner lends the app
            // role this one statement; it takes no argument and reads or changes no row.
            migrationBuilder.Sql("""
                CREATE FUNCTION xeno_analyze_store_tables() RETURNS void
                LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS
                $$ ANALYZE orders, order_lines, refunds, refund_lines, customers, products, checkouts $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION xeno_analyze_store_tables()");
        }
    }
}
