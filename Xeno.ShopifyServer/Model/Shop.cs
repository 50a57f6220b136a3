namespace Xeno.ShopifyServer.Model;

/// <summary>
/// One shop's data. Every mutation takes <see cref="Gate"/>, which the HTTP handler also holds while it
/// executes a query, so a response never sees an order half-changed.
/// </summary>
public sealed partial class Shop : GraphModel
{
    private readonly List<Order> _orders = [];
    private readonly List<Customer> _customers = [];
    private readonly List<Product> _products = [];
    private readonly List<AbandonedCheckout> _checkouts = [];
    private readonly List<WebhookSubscription> _webhooks = [];
    private readonly Dictionary<string, IdSequence> _ids = new(StringComparer.Ordinal);
    private readonly HashSet<long> _deletedOrders = [];

    public Shop(string myshopifyDomain, string name, string currencyCode, string ianaTimezone, TimeProvider? clock = null, int seed = 1)
    {
        MyshopifyDomain = myshopifyDomain;
        Name = name;
        CurrencyCode = currencyCode;
        IanaTimezone = ianaTimezone;
        TimeZone = TimeZoneInfo.FindSystemTimeZoneById(ianaTimezone);
        Clock = clock ?? TimeProvider.System;
        Random = new Random(seed);
        Id = 10_000_000_000L + Random.NextInt64(1_000_000_000, 90_000_000_000);
        CreatedAt = Clock.GetUtcNow().AddYears(-2);
        UpdatedAt = CreatedAt;
        Email = "owner@" + myshopifyDomain;
        RateLimit = new ShopRateLimit(Clock);
        Faults = new ShopFaults(seed);
        EnabledPresentmentCurrencies = [currencyCode];
        Bulk = new ShopBulkOperations(this);
    }

    internal SemaphoreSlim Gate { get; } = new(1, 1);
    internal Random Random { get; }
    public TimeProvider Clock { get; internal set; }

    public string MyshopifyDomain { get; }
    public string Name { get; set; }
    public string CurrencyCode { get; }
    public string IanaTimezone { get; }
    public TimeZoneInfo TimeZone { get; }
    public string Email { get; set; }

    /// <summary>
    /// The organization that owns the store: a Dev Dashboard app of the same organization may use the client
    /// credentials grant here. Defaults to one of its own, named after its domain (shops made without a seed share
    /// their id, so the id would put them all in one organization).
    /// </summary>
    public string OrganizationId
    {
        get => _organizationId ?? "org-" + MyshopifyDomain.Split('.')[0];
        set => _organizationId = value;
    }

    private string? _organizationId;
    public string ContactEmail => Email;
    public string ShopOwnerName { get; set; } = "Alex Owner";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public List<string> EnabledPresentmentCurrencies { get; set; }
    public bool TaxesIncluded => false;
    public bool TaxShipping => true;
    public string Url => "https://" + MyshopifyDomain;
    public string TimezoneAbbreviation => TimeZone.IsDaylightSavingTime(Clock.GetUtcNow()) ? TimeZone.DaylightName : TimeZone.StandardName;
    public int TimezoneOffsetMinutes => (int)TimeZone.GetUtcOffset(Clock.GetUtcNow()).TotalMinutes;
    public string TimezoneOffset => (TimezoneOffsetMinutes < 0 ? "-" : "+") + TimeSpan.FromMinutes(Math.Abs(TimezoneOffsetMinutes)).ToString("hhmm", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Cost-based leaky bucket of this shop; tests may tighten it at any time.</summary>
    public ShopRateLimit RateLimit { get; }

    /// <summary>Faults to inject into this shop's responses; settable at any time.</summary>
    public ShopFaults Faults { get; }

    /// <summary>Bulk operations run on this shop, their settings and test switches.</summary>
    public ShopBulkOperations Bulk { get; }

    /// <summary>Requests served per root field, so tests can assert how many pages a sync fetched.</summary>
    public RequestCounter Requests { get; } = new();

    // Read snapshots for tests: copies taken under the gate so callers can enumerate freely.
    public IReadOnlyList<Order> Orders => Locked(() => _orders.ToList());
    public IReadOnlyList<Customer> Customers => Locked(() => _customers.ToList());
    public IReadOnlyList<Product> Products => Locked(() => _products.ToList());
    public IReadOnlyList<AbandonedCheckout> AbandonedCheckouts => Locked(() => _checkouts.ToList());
    public IReadOnlyList<WebhookSubscription> WebhookSubscriptions => Locked(() => _webhooks.ToList());
    public IReadOnlyCollection<long> DeletedOrderIds => Locked(() => _deletedOrders.ToList());

    // Unlocked views for resolvers, which already run under the gate.
    internal List<Order> OrderList => _orders;
    internal List<Customer> CustomerList => _customers;
    internal List<Product> ProductList => _products;
    internal List<AbandonedCheckout> CheckoutList => _checkouts;
    internal List<WebhookSubscription> WebhookList => _webhooks;

    /// <summary>The customer's orders in the shop's order, read when enumerated (as a filter over the orders would be).</summary>
    internal IEnumerable<Order> OrdersOf(Customer customer)
    {
        foreach (var order in OrdersByCustomer().Of(customer))
            yield return order;
    }

    private OrderIndex? _ordersByCustomer;
    private long _changes;

    /// <summary>
    /// Scanning a million orders for every customer (order counts, amounts spent, bulk exports of customers) is
    /// quadratic, so the orders are indexed by customer in one pass and the index is rebuilt after any change
    /// (every mutation counts as one; the generator only appends, which the order count shows).
    /// </summary>
    private OrderIndex OrdersByCustomer()
    {
        var index = _ordersByCustomer;
        var changes = Interlocked.Read(ref _changes);
        if (index is null || index.Changes != changes || index.Count != _orders.Count)
            _ordersByCustomer = index = new OrderIndex(_orders, changes);
        return index;
    }

    private OrderNodeIndex? _orderNodes;

    /// <summary>Orders, their lines and their refunds by id: <c>nodes(ids:)</c> over a million orders' refunds would
    /// otherwise scan every order per id. Rebuilt after any change, as <see cref="OrdersByCustomer"/> is.</summary>
    private OrderNodeIndex OrderNodes()
    {
        var index = _orderNodes;
        var changes = Interlocked.Read(ref _changes);
        if (index is null || index.Changes != changes || index.Count != _orders.Count)
            _orderNodes = index = new OrderNodeIndex(_orders, changes);
        return index;
    }

    private sealed class OrderNodeIndex
    {
        private readonly Dictionary<(string, long), object> _nodes = [];

        public OrderNodeIndex(List<Order> orders, long changes)
        {
            Changes = changes;
            Count = orders.Count;
            foreach (var order in orders)
            {
                _nodes.TryAdd(("Order", order.Id), order);
                foreach (var line in order.LineItems) _nodes.TryAdd(("LineItem", line.Id), line);
                foreach (var refund in order.Refunds) _nodes.TryAdd(("Refund", refund.Id), refund);
            }
        }

        public long Changes { get; }
        public int Count { get; }

        public object? Find(string type, long id) => _nodes.GetValueOrDefault((type, id));
    }

    private sealed class OrderIndex
    {
        private readonly Dictionary<Customer, List<Order>> _byCustomer = new(ReferenceEqualityComparer.Instance);

        public OrderIndex(List<Order> orders, long changes)
        {
            Changes = changes;
            Count = orders.Count;
            foreach (var order in orders)
            {
                if (order.Customer is not { } customer)
                    continue;
                if (!_byCustomer.TryGetValue(customer, out var own))
                    _byCustomer[customer] = own = [];
                own.Add(order);
            }
        }

        public long Changes { get; }
        public int Count { get; }

        public IReadOnlyList<Order> Of(Customer customer) => _byCustomer.GetValueOrDefault(customer) ?? (IReadOnlyList<Order>)[];
    }

    public Order? FindOrder(long id) => Locked(() => _orders.Find(o => o.Id == id));
    public Customer? FindCustomer(long id) => Locked(() => _customers.Find(c => c.Id == id));
    public Product? FindProduct(long id) => Locked(() => _products.Find(p => p.Id == id));
    public AbandonedCheckout? FindAbandonedCheckout(long id) => Locked(() => _checkouts.Find(c => c.Id == id));

    /// <summary>Resolves a GID the way <c>node(id:)</c> does; caller holds the gate.</summary>
    internal object? FindNode(string gid)
    {
        if (!ShopifyGid.TryParse(gid, out var type, out var id))
            return null;
        return type switch
        {
            "Shop" => id == Id ? this : null,
            "Order" or "LineItem" or "Refund" => OrderNodes().Find(type, id),
            "Customer" => _customers.Find(c => c.Id == id),
            "Product" => _products.Find(p => p.Id == id),
            "ProductVariant" => _products.SelectMany(p => p.Variants).FirstOrDefault(v => v.Id == id),
            "AbandonedCheckout" => _checkouts.Find(c => c.Id == id),
            "WebhookSubscription" => _webhooks.Find(w => w.Id == id),
            _ => null,
        };
    }

    internal void Locked(Action action) => Locked(() => { action(); return true; });

    internal T Locked<T>(Func<T> read)
    {
        Gate.Wait();
        try { return read(); }
        finally { Gate.Release(); }
    }

    /// <summary>
    /// Next id of a type: Shopify ids grow with time but not by one, and some exceed 2^53, so the
    /// sequences start where the generator says and advance by seeded random steps.
    /// </summary>
    internal long NextId(string type)
    {
        if (!_ids.TryGetValue(type, out var sequence))
            _ids[type] = sequence = new IdSequence(1_000_000_000_000L + Random.NextInt64(0, 9_000_000_000_000L), 1_000_000);
        return sequence.Next(Random);
    }

    internal void StartIds(string type, long first, long maxStep) => _ids[type] = new IdSequence(first, maxStep);

    internal DateTimeOffset Now => Clock.GetUtcNow();

    /// <summary>Set by <see cref="ShopifyServerState.AddShop(Shop, string)"/>; null for a shop outside a state, which then emits nothing.</summary>
    internal WebhookEmitter? Webhooks { get; set; }

    private readonly Dictionary<Refund, long> _transactionIds = [];
    private long _nextTransactionId;

    /// <summary>
    /// The refund transaction's id in webhook bodies. The model keeps no transactions, so ids are handed out on
    /// first use, from a counter apart from <see cref="Random"/> so that generated shops stay the same per seed.
    /// Caller holds the gate.
    /// </summary>
    internal long TransactionIdOf(Refund refund)
    {
        if (!_transactionIds.TryGetValue(refund, out var id))
        {
            if (_nextTransactionId == 0)
                _nextTransactionId = 5_000_000_000_000L + Id % 1_000_000_000L * 1_000L;
            _transactionIds[refund] = id = _nextTransactionId;
            _nextTransactionId += 1_009;
        }
        return id;
    }

    /// <summary>Enqueues one webhook event; the body is built only when some subscription wants it. Caller holds the gate.</summary>
    internal void Emit(string topic, Func<Shop, byte[]> body) => Webhooks?.Emit(this, topic, () => body(this));

    private sealed class IdSequence(long next, long maxStep)
    {
        private long _next = next;

        public long Next(Random random)
        {
            var id = _next;
            _next += random.NextInt64(1, maxStep + 1);
            return id;
        }
    }
}
