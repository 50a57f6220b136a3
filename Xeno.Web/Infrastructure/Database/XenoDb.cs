using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Tenancy;

namespace Xeno.Web.Infrastructure.Database;

public sealed class XenoDb(DbContextOptions<XenoDb> options, TenantContext tenant) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<Store> Stores => Set<Store>();
    public DbSet<StoreMember> StoreMembers => Set<StoreMember>();
    public DbSet<StoreCredential> StoreCredentials => Set<StoreCredential>();
    public DbSet<LoginThrottle> LoginThrottles => Set<LoginThrottle>();
    public DbSet<OAuthState> OAuthStates => Set<OAuthState>();
    // Migrated here, read and written only through SecretsDb (the secrets role): the app role has no grant on them.
    public DbSet<UserPassword> UserPasswords => Set<UserPassword>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<ShopProduct> Products => Set<ShopProduct>();
    public DbSet<ShopProductVariant> ProductVariants => Set<ShopProductVariant>();
    public DbSet<ShopCustomer> Customers => Set<ShopCustomer>();
    public DbSet<ShopOrder> Orders => Set<ShopOrder>();
    public DbSet<ShopOrderLine> OrderLines => Set<ShopOrderLine>();
    public DbSet<ShopRefund> Refunds => Set<ShopRefund>();
    public DbSet<ShopRefundLine> RefundLines => Set<ShopRefundLine>();
    public DbSet<ShopCheckout> Checkouts => Set<ShopCheckout>();
    public DbSet<SyncRun> SyncRuns => Set<SyncRun>();
    public DbSet<SyncBulkFile> SyncBulkFiles => Set<SyncBulkFile>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<CustomerDataRequest> CustomerDataRequests => Set<CustomerDataRequest>();

    /// <summary>Read by the query filters at query time, so one compiled model serves every tenant.</summary>
    internal Guid? CurrentTenantId => tenant.TenantId;

    protected override void OnModelCreating(ModelBuilder model)
    {
        ConfigureAccounts(model);
        model.Entity<Store>(e =>
        {
            e.HasIndex(s => s.ShopDomain).IsUnique();
            e.Property(s => s.ShopDomain).HasMaxLength(255);
            e.Property(s => s.Status).HasConversion<string>().HasMaxLength(16);
            e.HasMany(s => s.Members).WithOne().HasForeignKey(m => m.StoreId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<StoreMember>(e =>
        {
            e.HasKey(m => new { m.StoreId, m.UserId });
            e.HasIndex(m => m.UserId);
            e.Property(m => m.Role).HasDefaultValue(MemberRoles.Owner);
            e.ToTable(t => t.HasCheckConstraint("ck_store_members_role", "role IN ('owner', 'viewer')"));
            e.HasOne<User>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<StoreCredential>(e =>
        {
            e.HasKey(c => c.TenantId);
            e.Property(c => c.Method).HasMaxLength(32);
        });
        model.Entity<OAuthState>(e =>
        {
            e.ToTable("oauth_states");
            e.HasIndex(x => x.StateHash).IsUnique();
            e.HasIndex(x => x.ExpiresAt);
            e.Property(x => x.ShopDomain).HasMaxLength(255);
            e.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<LoginThrottle>(e => e.HasKey(t => t.Key));
        ConfigureShopData(model);
        ConfigureWebhooks(model);

        ConfigureTenantOwned(model);
    }

    /// <summary>Users and their passwords, mapped the same way here (which migrates them) and in <see cref="SecretsDb"/>.</summary>
    internal static void ConfigureAccounts(ModelBuilder model)
    {
        model.Entity<User>(e =>
        {
            e.HasIndex(u => u.Email).IsUnique();
            e.Property(u => u.Email).HasMaxLength(320);
        });
        model.Entity<UserPassword>(e =>
        {
            e.ToTable("user_passwords");
            e.HasKey(p => p.UserId);
            e.HasOne<User>().WithOne().HasForeignKey<UserPassword>(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
        });
    }

    private static void ConfigureShopData(ModelBuilder model)
    {
        // Shopify's ids are ours to keep, never generated here.
        model.Entity<ShopProduct>(e => { e.ToTable("products"); e.HasKey(x => new { x.TenantId, x.Id }); e.Property(x => x.Id).ValueGeneratedNever(); });
        model.Entity<ShopProductVariant>(e =>
        {
            e.ToTable("product_variants"); e.HasKey(x => new { x.TenantId, x.Id }); e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => new { x.TenantId, x.ProductId });
        });
        model.Entity<ShopCustomer>(e => { e.ToTable("customers"); e.HasKey(x => new { x.TenantId, x.Id }); e.Property(x => x.Id).ValueGeneratedNever(); });
        model.Entity<ShopOrder>(e =>
        {
            e.ToTable("orders"); e.HasKey(x => new { x.TenantId, x.Id }); e.Property(x => x.Id).ValueGeneratedNever();
            // Dashboards read orders by date and by customer; both lead with the tenant.
            e.HasIndex(x => new { x.TenantId, x.ProcessedAt });
            e.HasIndex(x => new { x.TenantId, x.CustomerId, x.ProcessedAt });
            e.HasIndex(x => new { x.TenantId, x.CheckoutToken });
            // The orders whose lines a webhook or a paged sync wrote after a bulk operation began: the bulk load leaves
            // their lines alone. Bulk-loaded orders have none, so the load itself does not maintain this index.
            e.HasIndex(x => new { x.TenantId, x.LinesWrittenAt }).HasFilter("lines_written_at IS NOT NULL")
                .HasDatabaseName("ix_orders_lines_written");
        });
        model.Entity<ShopOrderLine>(e =>
        {
            e.ToTable("order_lines"); e.HasKey(x => new { x.TenantId, x.Id }); e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => new { x.TenantId, x.OrderId });
        });
        model.Entity<ShopRefund>(e =>
        {
            e.ToTable("refunds"); e.HasKey(x => new { x.TenantId, x.Id }); e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => new { x.TenantId, x.OrderId });
            e.HasIndex(x => new { x.TenantId, x.CreatedAt });
            // The refunds whose details a sync still has to fetch: few, and found at once.
            e.HasIndex(x => new { x.TenantId, x.Id }).HasFilter("details_pending").HasDatabaseName("ix_refunds_details_pending");
        });
        model.Entity<ShopRefundLine>(e =>
        {
            e.ToTable("refund_lines"); e.HasKey(x => new { x.TenantId, x.RefundId, x.LineItemId });
            e.HasIndex(x => new { x.TenantId, x.OrderId });
        });
        model.Entity<ShopCheckout>(e =>
        {
            e.ToTable("checkouts"); e.HasKey(x => new { x.TenantId, x.Id }); e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => new { x.TenantId, x.CreatedAt });
            e.HasIndex(x => new { x.TenantId, x.Token });
        });
        model.Entity<SyncBulkFile>(e =>
        {
            e.HasKey(x => new { x.TenantId, x.RunId, x.Kind });
            e.HasOne<SyncRun>().WithMany().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<SyncRun>(e =>
        {
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.TenantId, x.QueuedAt });
            // Never two syncs of one store at once: at most one queued or running run per tenant.
            e.HasIndex(x => x.TenantId).IsUnique().HasFilter("status IN ('queued', 'running')").HasDatabaseName("ux_sync_runs_one_active");
        });
    }

    private static void ConfigureWebhooks(ModelBuilder model)
    {
        model.Entity<WebhookDelivery>(e =>
        {
            e.HasKey(x => x.Id);
            // A repeat of an event or of a delivery is refused by the database, even when ten arrive at once.
            e.HasIndex(x => new { x.TenantId, x.EventId }).IsUnique().HasFilter("event_id IS NOT NULL");
            e.HasIndex(x => new { x.TenantId, x.WebhookId }).IsUnique().HasFilter("webhook_id IS NOT NULL");
            e.HasIndex(x => new { x.TenantId, x.Status, x.ReceivedAt });
            // The queue: what a worker may claim, oldest first, without walking the applied deliveries of the week.
            e.HasIndex(x => new { x.TenantId, x.ReceivedAt, x.Id }).HasFilter("status IN ('pending', 'failed')")
                .HasDatabaseName("ix_webhook_deliveries_open");
        });
        model.Entity<CustomerDataRequest>(e =>
        {
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.TenantId, x.RequestedAt });
        });
    }

    /// <summary>First wall: every tenant-owned entity gets a filter on the current tenant (no tenant,
    /// no rows) and a cascade from its store, so deleting a store deletes its data.</summary>
    private void ConfigureTenantOwned(ModelBuilder model)
    {
        foreach (var type in model.Model.GetEntityTypes().Where(t => typeof(ITenantOwned).IsAssignableFrom(t.ClrType)))
        {
            var method = typeof(XenoDb).GetMethod(nameof(ApplyTenantFilter), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
                .MakeGenericMethod(type.ClrType);
            method.Invoke(this, [model]);
        }
    }

    private void ApplyTenantFilter<T>(ModelBuilder model) where T : class, ITenantOwned
    {
        model.Entity<T>().HasQueryFilter(e => CurrentTenantId != null && e.TenantId == CurrentTenantId);
        model.Entity<T>().HasOne<Store>().WithMany().HasForeignKey(e => e.TenantId).OnDelete(DeleteBehavior.Cascade);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        EnforceTenant();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        EnforceTenant();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    /// <summary>Finbuckle's rules: a new tenant-owned row with no tenant takes the current one; a row
    /// of another tenant, or any tenant-owned write with no tenant set, is refused.</summary>
    private void EnforceTenant()
    {
        foreach (var entry in ChangeTracker.Entries<ITenantOwned>())
        {
            if (entry.State is EntityState.Unchanged or EntityState.Detached) continue;
            if (CurrentTenantId is not { } current)
                throw new TenantMismatchException($"A {entry.Entity.GetType().Name} was written with no tenant set.");
            if (entry.State == EntityState.Added && entry.Entity.TenantId == Guid.Empty)
                entry.Entity.TenantId = current;
            if (entry.Entity.TenantId != current)
                throw new TenantMismatchException($"A {entry.Entity.GetType().Name} of another tenant was written.");
        }
    }
}

public sealed class TenantMismatchException(string message) : InvalidOperationException(message);
