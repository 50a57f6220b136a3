using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class OAuthInstall : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "encrypted_access_token",
                table: "store_credentials",
                type: "text",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "access_token_expires_at",
                table: "store_credentials",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "client_id",
                table: "store_credentials",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "encrypted_app_secret",
                table: "store_credentials",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "encrypted_refresh_token",
                table: "store_credentials",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "method",
                table: "store_credentials",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                // Stores connected before this release pasted a custom app's token.
                defaultValue: "access_token");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "refresh_token_expires_at",
                table: "store_credentials",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "oauth_states",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    state_hash = table.Column<string>(type: "text", nullable: false),
                    browser_hash = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    shop_domain = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_oauth_states", x => x.id);
                    table.ForeignKey(
                        name: "fk_oauth_states_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_oauth_states_expires_at",
                table: "oauth_states",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "ix_oauth_states_state_hash",
                table: "oauth_states",
                column: "state_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_oauth_states_user_id",
                table: "oauth_states",
                column: "user_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth_states");

            migrationBuilder.DropColumn(
                name: "access_token_expires_at",
                table: "store_credentials");

            migrationBuilder.DropColumn(
                name: "client_id",
                table: "store_credentials");

            migrationBuilder.DropColumn(
                name: "encrypted_app_secret",
                table: "store_credentials");

            migrationBuilder.DropColumn(
                name: "encrypted_refresh_token",
                table: "store_credentials");

            migrationBuilder.DropColumn(
                name: "method",
                table: "store_credentials");

            migrationBuilder.DropColumn(
                name: "refresh_token_expires_at",
                table: "store_credentials");

            migrationBuilder.AlterColumn<string>(
                name: "encrypted_access_token",
                table: "store_credentials",
                type: "text",
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "text",
                oldNullable: true);
        }
    }
}
