using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Infrastructure.Database;

/// <summary>For <c>dotnet ef migrations add</c>: builds the model without starting the app (which
/// would start a database).</summary>
public sealed class DesignTimeXenoDbFactory : IDesignTimeDbContextFactory<XenoDb>
{
    public XenoDb CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<XenoDb>().UseNpgsql("Host=localhost;Database=xeno_design").UseSnakeCaseNamingConvention().Options,
        new TenantContext());
}
