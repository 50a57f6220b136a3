using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Xeno.Web.Infrastructure.Database;

/// <summary>
/// The few tables that hold secrets, on their own role (<c>ConnectionStrings:XenoSecrets</c>): password hashes and the
/// Data Protection key ring. The app role that runs every request and job has no grant on them, so a query gone wrong
/// there (an injection, a leaked app password) cannot read a hash or a key. Only sign-up, login, password changes,
/// operator grants and Data Protection use this context. <see cref="XenoDb"/> owns the schema; this one never migrates.
/// </summary>
public sealed class SecretsDb(DbContextOptions<SecretsDb> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<User> Users => Set<User>();
    public DbSet<UserPassword> UserPasswords => Set<UserPassword>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder model) => XenoDb.ConfigureAccounts(model);
}
