namespace Xeno.ShopifyServer;

/// <summary>
/// Shopify's cost-based leaky bucket for one app and shop: a request takes its requested cost up front
/// and gets back the difference once the actual cost is known; points refill at <see cref="RestoreRate"/>
/// per second up to <see cref="MaximumAvailable"/>.
/// </summary>
public sealed class ShopRateLimit
{
    private readonly object _sync = new();
    private readonly TimeProvider _clock;
    private double _maximumAvailable = 2000;
    private double _restoreRate = 100;
    private double _available = 2000;
    private DateTimeOffset _lastRefill;

    internal ShopRateLimit(TimeProvider clock)
    {
        _clock = clock;
        _lastRefill = clock.GetUtcNow();
    }

    public double MaximumAvailable
    {
        get { lock (_sync) return _maximumAvailable; }
    }

    public double RestoreRate
    {
        get { lock (_sync) return _restoreRate; }
    }

    public double CurrentlyAvailable
    {
        get { lock (_sync) { Refill(); return _available; } }
    }

    /// <summary>Resizes the bucket (e.g. 1000/50 for a tight test, 20000/1000 for Plus) and fills it.</summary>
    public void Configure(double maximumAvailable, double restoreRate, double? currentlyAvailable = null)
    {
        lock (_sync)
        {
            _maximumAvailable = maximumAvailable;
            _restoreRate = restoreRate;
            _available = Math.Min(maximumAvailable, currentlyAvailable ?? maximumAvailable);
            _lastRefill = _clock.GetUtcNow();
        }
    }

    /// <summary>Takes <paramref name="cost"/> points if the bucket has them; either way reports the bucket afterwards.</summary>
    internal bool TryTake(int cost, out ThrottleStatus status)
    {
        lock (_sync)
        {
            Refill();
            var taken = cost <= _available;
            if (taken)
                _available -= cost;
            status = Snapshot();
            return taken;
        }
    }

    internal ThrottleStatus GiveBack(int points)
    {
        lock (_sync)
        {
            Refill();
            _available = Math.Min(_maximumAvailable, _available + points);
            return Snapshot();
        }
    }

    internal ThrottleStatus Status()
    {
        lock (_sync)
        {
            Refill();
            return Snapshot();
        }
    }

    private ThrottleStatus Snapshot() => new(_maximumAvailable, Math.Floor(_available), _restoreRate);

    private void Refill()
    {
        var now = _clock.GetUtcNow();
        var elapsed = (now - _lastRefill).TotalSeconds;
        if (elapsed > 0)
        {
            _available = Math.Min(_maximumAvailable, _available + elapsed * _restoreRate);
            _lastRefill = now;
        }
    }
}

public readonly record struct ThrottleStatus(double MaximumAvailable, double CurrentlyAvailable, double RestoreRate);
