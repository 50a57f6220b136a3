namespace Xeno.Web.Infrastructure.Tenancy;

/// <summary>A row that belongs to one store. Both walls key on <see cref="TenantId"/>: the EF Core
/// query filter and SaveChanges check, and PostgreSQL row-level security on the tenant_id column.</summary>
public interface ITenantOwned
{
    Guid TenantId { get; set; }
}

/// <summary>The tenant of the current request or job, set once it has been resolved from the
/// route's store id and the caller's membership (or by the job that works for that store).</summary>
public sealed class TenantContext
{
    public Guid? TenantId { get; private set; }

    public void Set(Guid tenantId)
    {
        if (TenantId is { } current && current != tenantId)
            throw new InvalidOperationException("The tenant of a scope cannot change once set.");
        TenantId = tenantId;
    }
}
