using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class ShopifyShopId : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "shopify_shop_id",
                table: "stores",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "shopify_shop_id",
                table: "stores");
        }
    }
}
