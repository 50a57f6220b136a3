using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Xeno.Web.Infrastructure.Tenancy;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class BulkSync : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "details_pending",
                table: "refunds",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "lines_written_at",
                table: "orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "sync_bulk_files",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    operation_id = table.Column<string>(type: "text", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    url = table.Column<string>(type: "text", nullable: true),
                    object_count = table.Column<long>(type: "bigint", nullable: false),
                    lines_loaded = table.Column<long>(type: "bigint", nullable: false),
                    bytes_loaded = table.Column<long>(type: "bigint", nullable: false),
                    error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sync_bulk_files", x => new { x.tenant_id, x.run_id, x.kind });
                    table.ForeignKey(
                        name: "fk_sync_bulk_files_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_sync_bulk_files_sync_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "sync_runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_refunds_details_pending",
                table: "refunds",
                columns: new[] { "tenant_id", "id" },
                filter: "details_pending");

            migrationBuilder.CreateIndex(
                name: "ix_sync_bulk_files_run_id",
                table: "sync_bulk_files",
                column: "run_id");

            RowLevelSecurity.EnableFor(migrationBuilder, "sync_bulk_files");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sync_bulk_files");

            migrationBuilder.DropIndex(
                name: "ix_refunds_details_pending",
                table: "refunds");

            migrationBuilder.DropColumn(
                name: "details_pending",
                table: "refunds");

            migrationBuilder.DropColumn(
                name: "lines_written_at",
                table: "orders");
        }
    }
}
