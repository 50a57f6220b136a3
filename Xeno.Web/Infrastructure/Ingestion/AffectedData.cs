namespace Xeno.Web.Infrastructure.Ingestion;

/// <summary>
/// What a unit of writes touched, gathered by <see cref="ShopDataWriter"/> as it writes, so that the aggregates can be
/// brought up to date in the same transaction: the instants whose local days must be counted again (order, refund,
/// checkout and customer times, old and new), the customers whose history must be read again, and how the RFM group
/// counts moved. Recomputing a little more than changed is harmless; missing something is not, so old values are
/// captured before every change.
/// </summary>
public sealed class AffectedData
{
    public HashSet<DateTimeOffset> Instants { get; } = [];
    public HashSet<long> Customers { get; } = [];
    public Dictionary<string, int> GroupDeltas { get; } = new(StringComparer.Ordinal);

    /// <summary>Everything, rebuilt from the stored rows (after a bulk backfill): the sets above are then ignored.</summary>
    public bool Everything { get; set; }

    public bool IsEmpty => !Everything && Instants.Count == 0 && Customers.Count == 0 && GroupDeltas.All(d => d.Value == 0);

    public void Instant(DateTimeOffset? at)
    {
        if (at is { } value) Instants.Add(value.ToUniversalTime());
    }

    public void Customer(long? id)
    {
        if (id is { } value) Customers.Add(value);
    }

    /// <summary>A customer left <paramref name="from"/> for <paramref name="to"/> (null: no group, or deleted).</summary>
    public void Group(string? from, string? to)
    {
        if (from == to) return;
        if (from is not null) GroupDeltas[from] = GroupDeltas.GetValueOrDefault(from) - 1;
        if (to is not null) GroupDeltas[to] = GroupDeltas.GetValueOrDefault(to) + 1;
    }
}
