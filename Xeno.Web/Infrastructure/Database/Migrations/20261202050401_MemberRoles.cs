using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class MemberRoles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "role",
                table: "store_members",
                type: "text",
                nullable: false,
                defaultValue: "owner");

            migrationBuilder.AddCheckConstraint(
                name: "ck_store_members_role",
                table: "store_members",
                sql: "role IN ('owner', 'viewer')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_store_members_role",
                table: "store_members");

            migrationBuilder.DropColumn(
                name: "role",
                table: "store_members");
        }
    }
}
