using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Ingestion;

namespace Xeno.Web.Features.Webhooks;

/// <summary>
/// Order deliveries that follow one another in a large batch (<see cref="InboxWorker"/>), mapped one by one and written as
/// one upsert: a flash sale's hundreds of <c>orders/create</c> cost a few statements in all instead of a few each. Two
/// versions of one order keep the newer (on a tie, the later delivery), as applying them one after the other under the
/// updatedAt guard would; the guard still stands against what is stored. The run is written before the batch's next
/// delivery of another topic is applied, so that every delivery still sees the orders delivered before it (a
/// customers/redact, above all, finds them to strip).
/// </summary>
public sealed class OrderRun
{
    private readonly Dictionary<long, OrderBatch> _latest = [];
    private readonly List<Guid> _deliveries = [];

    public static bool Takes(string topic) => topic is "orders/create" or "orders/updated" or "orders/cancelled";

    /// <returns>Why the delivery is ignored (<see cref="DeliveryChecks"/>), or null when it joined the run.</returns>
    public async Task<string?> AddAsync(XenoDb db, WebhookDelivery delivery, DateTimeOffset now, ILogger logger, CancellationToken ct)
    {
        var (body, refusal) = await ProcessWebhook.ReadAsync(db, delivery, now, logger, ct);
        if (refusal is not null) return refusal;
        var order = new OrderBatch();
        RestMapping.Order(body, order);
        _deliveries.Add(delivery.Id);
        if (order.Orders is [{ } mapped])
        {
            if (!_latest.TryGetValue(mapped.Id, out var kept) || !(kept.Orders[0].ShopifyUpdatedAt > mapped.ShopifyUpdatedAt))
                _latest[mapped.Id] = order;
        }
        return null;
    }

    /// <summary>Writes the run (as <see cref="ProcessWebhook"/> writes one order) and empties it.</summary>
    /// <returns>The deliveries it applied.</returns>
    public async Task<IReadOnlyList<Guid>> FlushAsync(ShopDataWriter writer, CancellationToken ct)
    {
        if (_deliveries.Count == 0) return [];
        var all = new OrderBatch();
        foreach (var part in _latest.Values)
        {
            all.Orders.AddRange(part.Orders);
            all.Lines.AddRange(part.Lines);
            all.Refunds.AddRange(part.Refunds);
            all.RefundLines.AddRange(part.RefundLines);
        }
        await ProcessWebhook.WriteOrdersAsync(writer, all, ct);
        var applied = _deliveries.ToList();
        _latest.Clear();
        _deliveries.Clear();
        return applied;
    }
}
