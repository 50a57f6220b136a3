using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class Credentials : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "is_operator",
                table: "users",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "user_passwords",
                columns: table => new
                {
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    hash = table.Column<string>(type: "text", nullable: false),
                    changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_user_passwords", x => x.user_id);
                    table.ForeignKey(
                        name: "fk_user_passwords_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            // The hashes move to a table only the secrets role may read (see DatabaseSetup.GrantAsync).
            migrationBuilder.Sql("INSERT INTO user_passwords (user_id, hash, changed_at) SELECT id, password_hash, created_at FROM users;");
            migrationBuilder.DropColumn(
                name: "password_hash",
                table: "users");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "password_hash",
                table: "users",
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.Sql("UPDATE users SET password_hash = p.hash FROM user_passwords p WHERE p.user_id = users.id;");

            migrationBuilder.DropTable(
                name: "user_passwords");

            migrationBuilder.DropColumn(
                name: "is_operator",
                table: "users");

        }
    }
}
