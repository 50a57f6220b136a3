using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Xeno.Web.Infrastructure.Tenancy;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class Webhooks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "customer_data_requests",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    customer_id = table.Column<long>(type: "bigint", nullable: false),
                    shopify_request_id = table.Column<long>(type: "bigint", nullable: true),
                    orders_requested = table.Column<List<long>>(type: "bigint[]", nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_customer_data_requests", x => x.id);
                    table.ForeignKey(
                        name: "fk_customer_data_requests_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_deliveries",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    topic = table.Column<string>(type: "text", nullable: false),
                    shop_domain = table.Column<string>(type: "text", nullable: false),
                    event_id = table.Column<string>(type: "text", nullable: true),
                    webhook_id = table.Column<string>(type: "text", nullable: true),
                    triggered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    api_version = table.Column<string>(type: "text", nullable: true),
                    body = table.Column<string>(type: "text", nullable: true),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    processed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "fk_webhook_deliveries_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_customer_data_requests_tenant_id_requested_at",
                table: "customer_data_requests",
                columns: new[] { "tenant_id", "requested_at" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_tenant_id_event_id",
                table: "webhook_deliveries",
                columns: new[] { "tenant_id", "event_id" },
                unique: true,
                filter: "event_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_tenant_id_status_received_at",
                table: "webhook_deliveries",
                columns: new[] { "tenant_id", "status", "received_at" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_tenant_id_webhook_id",
                table: "webhook_deliveries",
                columns: new[] { "tenant_id", "webhook_id" },
                unique: true,
                filter: "webhook_id IS NOT NULL");

            RowLevelSecurity.EnableFor(migrationBuilder, "webhook_deliveries", "customer_data_requests");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "customer_data_requests");

            migrationBuilder.DropTable(
                name: "webhook_deliveries");
        }
    }
}
