using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Xeno.Web.Infrastructure.Tenancy;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class ShopData : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "connection_error",
                table: "stores",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "checkouts",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    id = table.Column<long>(type: "bigint", nullable: false),
                    token = table.Column<string>(type: "text", nullable: true),
                    customer_id = table.Column<long>(type: "bigint", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    total_price = table.Column<decimal>(type: "numeric", nullable: false),
                    shopify_updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    deleted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_checkouts", x => new { x.tenant_id, x.id });
                    table.ForeignKey(
                        name: "fk_checkouts_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "customers",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    id = table.Column<long>(type: "bigint", nullable: false),
                    first_name = table.Column<string>(type: "text", nullable: true),
                    last_name = table.Column<string>(type: "text", nullable: true),
                    email = table.Column<string>(type: "text", nullable: true),
                    phone = table.Column<string>(type: "text", nullable: true),
                    rfm_group = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    shopify_updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    deleted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    redacted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_customers", x => new { x.tenant_id, x.id });
                    table.ForeignKey(
                        name: "fk_customers_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "order_lines",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    id = table.Column<long>(type: "bigint", nullable: false),
                    order_id = table.Column<long>(type: "bigint", nullable: false),
                    product_id = table.Column<long>(type: "bigint", nullable: true),
                    variant_id = table.Column<long>(type: "bigint", nullable: true),
                    title = table.Column<string>(type: "text", nullable: true),
                    quantity = table.Column<int>(type: "integer", nullable: false),
                    original_unit_price = table.Column<decimal>(type: "numeric", nullable: false),
                    discount_allocated = table.Column<decimal>(type: "numeric", nullable: false),
                    is_gift_card = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_order_lines", x => new { x.tenant_id, x.id });
                    table.ForeignKey(
                        name: "fk_order_lines_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "orders",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    id = table.Column<long>(type: "bigint", nullable: false),
                    name = table.Column<string>(type: "text", nullable: true),
                    customer_id = table.Column<long>(type: "bigint", nullable: true),
                    processed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    cancelled_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    test = table.Column<bool>(type: "boolean", nullable: false),
                    currency = table.Column<string>(type: "text", nullable: true),
                    presentment_currency = table.Column<string>(type: "text", nullable: true),
                    total_price = table.Column<decimal>(type: "numeric", nullable: false),
                    current_total_price = table.Column<decimal>(type: "numeric", nullable: false),
                    total_price_presentment = table.Column<decimal>(type: "numeric", nullable: false),
                    shipping_price = table.Column<decimal>(type: "numeric", nullable: false),
                    total_tax = table.Column<decimal>(type: "numeric", nullable: false),
                    total_discounts = table.Column<decimal>(type: "numeric", nullable: false),
                    checkout_token = table.Column<string>(type: "text", nullable: true),
                    shopify_updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    deleted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_orders", x => new { x.tenant_id, x.id });
                    table.ForeignKey(
                        name: "fk_orders_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "product_variants",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    id = table.Column<long>(type: "bigint", nullable: false),
                    product_id = table.Column<long>(type: "bigint", nullable: false),
                    title = table.Column<string>(type: "text", nullable: true),
                    sku = table.Column<string>(type: "text", nullable: true),
                    price = table.Column<decimal>(type: "numeric", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_product_variants", x => new { x.tenant_id, x.id });
                    table.ForeignKey(
                        name: "fk_product_variants_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "products",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    id = table.Column<long>(type: "bigint", nullable: false),
                    title = table.Column<string>(type: "text", nullable: false),
                    status = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    shopify_updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    deleted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_products", x => new { x.tenant_id, x.id });
                    table.ForeignKey(
                        name: "fk_products_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "refund_lines",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    refund_id = table.Column<long>(type: "bigint", nullable: false),
                    line_item_id = table.Column<long>(type: "bigint", nullable: false),
                    order_id = table.Column<long>(type: "bigint", nullable: false),
                    quantity = table.Column<int>(type: "integer", nullable: false),
                    subtotal = table.Column<decimal>(type: "numeric", nullable: false),
                    total_tax = table.Column<decimal>(type: "numeric", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_refund_lines", x => new { x.tenant_id, x.refund_id, x.line_item_id });
                    table.ForeignKey(
                        name: "fk_refund_lines_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "refunds",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    id = table.Column<long>(type: "bigint", nullable: false),
                    order_id = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    shipping_refunded = table.Column<decimal>(type: "numeric", nullable: false),
                    shipping_tax_refunded = table.Column<decimal>(type: "numeric", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_refunds", x => new { x.tenant_id, x.id });
                    table.ForeignKey(
                        name: "fk_refunds_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "sync_runs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    mode = table.Column<string>(type: "text", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    queued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_since = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    checkpoint_kind = table.Column<string>(type: "text", nullable: true),
                    checkpoint_cursor = table.Column<string>(type: "text", nullable: true),
                    fetched_products = table.Column<int>(type: "integer", nullable: false),
                    fetched_customers = table.Column<int>(type: "integer", nullable: false),
                    fetched_orders = table.Column<int>(type: "integer", nullable: false),
                    fetched_abandoned_checkouts = table.Column<int>(type: "integer", nullable: false),
                    pages_fetched = table.Column<int>(type: "integer", nullable: false),
                    error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sync_runs", x => x.id);
                    table.ForeignKey(
                        name: "fk_sync_runs_stores_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "stores",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_checkouts_tenant_id_created_at",
                table: "checkouts",
                columns: new[] { "tenant_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_checkouts_tenant_id_token",
                table: "checkouts",
                columns: new[] { "tenant_id", "token" });

            migrationBuilder.CreateIndex(
                name: "ix_order_lines_tenant_id_order_id",
                table: "order_lines",
                columns: new[] { "tenant_id", "order_id" });

            migrationBuilder.CreateIndex(
                name: "ix_orders_tenant_id_checkout_token",
                table: "orders",
                columns: new[] { "tenant_id", "checkout_token" });

            migrationBuilder.CreateIndex(
                name: "ix_orders_tenant_id_customer_id_processed_at",
                table: "orders",
                columns: new[] { "tenant_id", "customer_id", "processed_at" });

            migrationBuilder.CreateIndex(
                name: "ix_orders_tenant_id_processed_at",
                table: "orders",
                columns: new[] { "tenant_id", "processed_at" });

            migrationBuilder.CreateIndex(
                name: "ix_product_variants_tenant_id_product_id",
                table: "product_variants",
                columns: new[] { "tenant_id", "product_id" });

            migrationBuilder.CreateIndex(
                name: "ix_refund_lines_tenant_id_order_id",
                table: "refund_lines",
                columns: new[] { "tenant_id", "order_id" });

            migrationBuilder.CreateIndex(
                name: "ix_refunds_tenant_id_created_at",
                table: "refunds",
                columns: new[] { "tenant_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_refunds_tenant_id_order_id",
                table: "refunds",
                columns: new[] { "tenant_id", "order_id" });

            migrationBuilder.CreateIndex(
                name: "ix_sync_runs_tenant_id_queued_at",
                table: "sync_runs",
                columns: new[] { "tenant_id", "queued_at" });

            migrationBuilder.CreateIndex(
                name: "ux_sync_runs_one_active",
                table: "sync_runs",
                column: "tenant_id",
                unique: true,
                filter: "status IN ('queued', 'running')");

            RowLevelSecurity.EnableFor(migrationBuilder,
                "products", "product_variants", "customers", "orders", "order_lines", "refunds", "refund_lines", "checkouts", "sync_runs");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "checkouts");

            migrationBuilder.DropTable(
                name: "customers");

            migrationBuilder.DropTable(
                name: "order_lines");

            migrationBuilder.DropTable(
                name: "orders");

            migrationBuilder.DropTable(
                name: "product_variants");

            migrationBuilder.DropTable(
                name: "products");

            migrationBuilder.DropTable(
                name: "refund_lines");

            migrationBuilder.DropTable(
                name: "refunds");

            migrationBuilder.DropTable(
                name: "sync_runs");

            migrationBuilder.DropColumn(
                name: "connection_error",
                table: "stores");
        }
    }
}
