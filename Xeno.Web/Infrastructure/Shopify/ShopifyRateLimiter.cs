using System.Collections.Concurrent;

namespace Xeno.Web.Infrastructure.Shopify;

/// <summary>Shopify's <c>extensions.cost.throttleStatus</c>.</summary>
public readonly record struct ShopifyThrottleStatus(double MaximumAvailable, double CurrentlyAvailable, double RestoreRate);

/// <summary>
/// Xeno's mirror of Shopify's cost bucket, one per shop, shared by every caller in this process (register it
/// as a singleton). Each answer tells us the bucket's size, level and restore rate; between answers the level
/// is projected forward at the restore rate, minus the points of requests we have already let go. A query
/// whose cost we know waits until the bucket holds it, so Shopify rarely has to throttle us at all.
/// </summary>
public sealed class ShopifyRateLimiter(TimeProvider time)
{
    // Documents are the constants of ShopifyQueries, so this stays small; the cap guards against a caller
    // building documents dynamically.
    private const int MaxRememberedDocuments = 2_000;

    private readonly ConcurrentDictionary<string, Bucket> _shops = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _costs = new(StringComparer.Ordinal);

    /// <summary>The requested cost Shopify last reported for <paramref name="document"/>, if any.</summary>
    public int? KnownCost(string document) => _costs.TryGetValue(document, out var cost) ? cost : null;

    public void RememberCost(string document, int requestedCost)
    {
        if (_costs.Count >= MaxRememberedDocuments && !_costs.ContainsKey(document))
            _costs.Clear();
        _costs[document] = requestedCost;
    }

    /// <summary>
    /// Waits until the shop's bucket can pay <paramref name="cost"/> (at once when we know nothing yet) and
    /// reserves those points. Dispose the lease once the answer is in, after <see cref="Lease.Observe"/>.
    /// </summary>
    public async ValueTask<Lease> AcquireAsync(string shopDomain, int? cost, CancellationToken ct)
    {
        var bucket = _shops.GetOrAdd(shopDomain, _ => new Bucket());
        var points = Math.Max(0, cost ?? 0);
        var wait = bucket.Reserve(points, time.GetUtcNow());
        if (wait > TimeSpan.Zero)
        {
            try { await Task.Delay(wait, time, ct); }
            catch
            {
                bucket.Release(points);
                throw;
            }
        }
        return new Lease(time, bucket, points);
    }

    /// <summary>Feeds a bucket reading that did not come through a lease (e.g. a cached answer).</summary>
    public void Observe(string shopDomain, ShopifyThrottleStatus status) =>
        _shops.GetOrAdd(shopDomain, _ => new Bucket()).Observe(status, time.GetUtcNow());

    /// <summary>Holds every caller for this shop until <paramref name="duration"/> has passed (a 429's Retry-After,
    /// a throttle that came without a bucket reading).</summary>
    public void Pause(string shopDomain, TimeSpan duration) =>
        _shops.GetOrAdd(shopDomain, _ => new Bucket()).PauseUntil(time.GetUtcNow() + duration);

    /// <summary>Points we expect the shop's bucket to hold now, net of reserved requests; null before Shopify's first answer.</summary>
    public double? EstimatedAvailable(string shopDomain) =>
        _shops.TryGetValue(shopDomain, out var bucket) ? bucket.Estimate(time.GetUtcNow()) : null;

    public sealed class Lease : IDisposable
    {
        private readonly TimeProvider _time;
        private readonly Bucket _bucket;
        private readonly int _points;
        private int _released;

        internal Lease(TimeProvider time, Bucket bucket, int points)
        {
            _time = time;
            _bucket = bucket;
            _points = points;
        }

        public void Observe(ShopifyThrottleStatus status) => _bucket.Observe(status, _time.GetUtcNow());

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                _bucket.Release(_points);
        }
    }

    internal sealed class Bucket
    {
        private readonly Lock _sync = new();
        private bool _known;
        private double _maximum;
        private double _restoreRate;
        private double _reported;
        private DateTimeOffset _reportedAt;
        // Points of requests waiting to go or in flight. In-flight ones may already be inside the latest
        // reading too; counting them twice only makes us wait slightly longer than needed, never too little.
        private double _reserved;
        private DateTimeOffset _pausedUntil;

        public TimeSpan Reserve(int points, DateTimeOffset now)
        {
            lock (_sync)
            {
                var wait = _pausedUntil > now ? _pausedUntil - now : TimeSpan.Zero;
                if (_known && _restoreRate > 0 && points > 0)
                {
                    // A query larger than the whole bucket can still run once the bucket is full.
                    var needed = Math.Min(points, _maximum);
                    var deficit = _reserved + needed - Level(now);
                    if (deficit > 0)
                    {
                        // Beyond "now" the level is not capped at the maximum: the requests queued ahead of
                        // this one keep draining the bucket as it refills.
                        var refill = TimeSpan.FromSeconds(Math.Ceiling(deficit / _restoreRate * 1000) / 1000);
                        if (refill > wait)
                            wait = refill;
                    }
                }
                _reserved += points;
                return wait;
            }
        }

        public void Release(int points)
        {
            lock (_sync)
                _reserved = Math.Max(0, _reserved - points);
        }

        public void Observe(ShopifyThrottleStatus status, DateTimeOffset now)
        {
            if (status.MaximumAvailable <= 0 || status.RestoreRate < 0)
                return;
            lock (_sync)
            {
                _known = true;
                _maximum = status.MaximumAvailable;
                _restoreRate = status.RestoreRate;
                _reported = Math.Clamp(status.CurrentlyAvailable, 0, status.MaximumAvailable);
                _reportedAt = now;
            }
        }

        public void PauseUntil(DateTimeOffset until)
        {
            lock (_sync)
                if (until > _pausedUntil)
                    _pausedUntil = until;
        }

        public double? Estimate(DateTimeOffset now)
        {
            lock (_sync)
                return _known ? Level(now) - _reserved : null;
        }

        private double Level(DateTimeOffset now) =>
            Math.Min(_maximum, _reported + Math.Max(0, (now - _reportedAt).TotalSeconds) * _restoreRate);
    }
}
