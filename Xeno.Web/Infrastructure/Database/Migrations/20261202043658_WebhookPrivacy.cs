using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Xeno.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class WebhookPrivacy : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ignored_reason",
                table: "webhook_deliveries",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "uninstalled_at",
                table: "stores",
                type: "timestamp with time zone",
                nullable: true);

            // Stores uninstalled before Xeno kept the time: their 48 hours before a shop/redact counts start now.
            migrationBuilder.Sql("UPDATE stores SET uninstalled_at = now() WHERE status = 'Uninstalled';");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ignored_reason",
                table: "webhook_deliveries");

            migrationBuilder.DropColumn(
                name: "uninstalled_at",
                table: "stores");
        }
    }
}
