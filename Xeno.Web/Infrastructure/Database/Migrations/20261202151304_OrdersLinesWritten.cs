using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class OrdersLinesWritten : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_orders_lines_written",
                table: "orders",
                columns: new[] { "tenant_id", "lines_written_at" },
                filter: "lines_written_at IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_orders_lines_written",
                table: "orders");
        }
    }
}
