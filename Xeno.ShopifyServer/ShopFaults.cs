namespace Xeno.ShopifyServer;

public enum ShopifyFault
{
    None,
    Http500,
    Http502,
    Http503,
    Http429,
    Throttled,
    DropConnection,
    /// <summary>Answers 401 as for a token Shopify no longer honours, whichever token was sent (forced only).</summary>
    Http401,
}

/// <summary>
/// Faults to inject into one shop's responses. Random faults draw from a seeded generator, so a given
/// seed and request order always fail the same requests; <see cref="Enqueue"/> forces exact ones.
/// </summary>
public sealed class ShopFaults
{
    private readonly object _sync = new();
    private readonly Queue<ShopifyFault> _forced = new();
    private Random _random;

    internal ShopFaults(int seed) => _random = new Random(seed);

    public double Http500Probability { get; set; }
    public double Http502Probability { get; set; }
    public double Http503Probability { get; set; }
    public double Http429Probability { get; set; }
    public double ThrottledProbability { get; set; }
    public double DropConnectionProbability { get; set; }

    /// <summary>Seconds announced in <c>Retry-After</c> on a 429.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Delay added before every response of this shop.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Makes the next requests fail with <paramref name="fault"/>, <paramref name="times"/> times, before any random fault.</summary>
    public void Enqueue(ShopifyFault fault, int times = 1)
    {
        lock (_sync)
            for (var i = 0; i < times; i++)
                _forced.Enqueue(fault);
    }

    /// <summary>Clears every fault and restarts the random sequence from <paramref name="seed"/>.</summary>
    public void Reset(int seed = 1)
    {
        lock (_sync)
        {
            _forced.Clear();
            _injected.Clear();
            _random = new Random(seed);
            Http500Probability = Http502Probability = Http503Probability = 0;
            Http429Probability = ThrottledProbability = DropConnectionProbability = 0;
            Latency = TimeSpan.Zero;
        }
    }

    private readonly Dictionary<ShopifyFault, int> _injected = [];

    /// <summary>How many requests each fault has failed (forced and random) since the last <see cref="Reset"/>.</summary>
    public IReadOnlyDictionary<ShopifyFault, int> Injected
    {
        get { lock (_sync) return new Dictionary<ShopifyFault, int>(_injected); }
    }

    internal ShopifyFault Next()
    {
        lock (_sync)
        {
            var fault = Draw();
            if (fault != ShopifyFault.None) _injected[fault] = _injected.GetValueOrDefault(fault) + 1;
            return fault;
        }
    }

    private ShopifyFault Draw()
    {
        {
            if (_forced.TryDequeue(out var forced))
                return forced;
            // One draw per request keeps the sequence reproducible whichever probabilities are set.
            var draw = _random.NextDouble();
            foreach (var (fault, probability) in new[]
            {
                (ShopifyFault.Http500, Http500Probability), (ShopifyFault.Http502, Http502Probability),
                (ShopifyFault.Http503, Http503Probability), (ShopifyFault.Http429, Http429Probability),
                (ShopifyFault.Throttled, ThrottledProbability), (ShopifyFault.DropConnection, DropConnectionProbability),
            })
            {
                if (draw < probability)
                    return fault;
                draw -= probability;
            }
            return ShopifyFault.None;
        }
    }
}

/// <summary>Counts of requests served, per root field (e.g. <c>orders</c>) and in total.</summary>
public sealed class RequestCounter
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _byRootField = new(StringComparer.Ordinal);
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public int this[string rootField] => _byRootField.GetValueOrDefault(rootField);

    public IReadOnlyDictionary<string, int> ByRootField => new Dictionary<string, int>(_byRootField);

    public void Reset()
    {
        _byRootField.Clear();
        Interlocked.Exchange(ref _total, 0);
    }

    internal void Count(IEnumerable<string> rootFields)
    {
        Interlocked.Increment(ref _total);
        foreach (var field in rootFields)
            _byRootField.AddOrUpdate(field, 1, (_, n) => n + 1);
    }
}
