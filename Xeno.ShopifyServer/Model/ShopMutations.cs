namespace Xeno.ShopifyServer.Model;

/// <summary>
/// Changes a running shop the way merchants and buyers do, for webhook and incremental-sync tests.
/// Each bumps the changed entity's <c>updatedAt</c> to the clock's now, raises the webhooks Shopify would
/// (see README), and returns the entity.
/// </summary>
public sealed partial class Shop
{
    private int _lastOrderNumber = 1000;

    /// <summary>Currency of foreign orders (see <see cref="NewOrder.Foreign"/>) and its fixed rate to the shop currency.</summary>
    public string PresentmentCurrencyCode { get; set; } = "CAD";
    public decimal PresentmentRate { get; set; } = 0.73m;

    internal int NextOrderNumber() => ++_lastOrderNumber;

    public Order PlaceOrder(NewOrder? order = null) => Mutate(() =>
    {
        var placed = OrderFactory.Build(this, order ?? new NewOrder());
        _orders.Add(placed);
        Emit("orders/create", shop => WebhookBodies.Order(shop, placed));
        if (placed.Customer is { } customer)
        {
            customer.UpdatedAt = Bump(customer.UpdatedAt);
            Emit("customers/update", shop => WebhookBodies.Customer(shop, customer));
        }
        return placed;
    });

    /// <summary>Refunds <paramref name="quantity"/> units of the first line with units left (all when null), optionally the shipping too.</summary>
    public Refund AddRefund(long orderId, int? quantity = null, bool refundShipping = false, DateTimeOffset? createdAt = null) => Mutate(() =>
    {
        var order = RequireOrder(orderId);
        var refund = OrderFactory.Refund(this, order, createdAt ?? Bump(order.UpdatedAt), quantity, refundShipping);
        order.UpdatedAt = Bump(order.UpdatedAt);
        Emit("refunds/create", shop => WebhookBodies.Refund(shop, refund));
        Emit("orders/updated", shop => WebhookBodies.Order(shop, order));
        return refund;
    });

    public Order CancelOrder(long orderId, bool refund = true) => Mutate(() =>
    {
        var order = RequireOrder(orderId);
        var refunds = order.Refunds.Count;
        OrderFactory.Cancel(this, order, Bump(order.UpdatedAt), refund);
        order.UpdatedAt = Bump(order.UpdatedAt);
        // Cancelling with a refund creates one, and Shopify reports it like any other.
        foreach (var created in order.Refunds.Skip(refunds))
            Emit("refunds/create", shop => WebhookBodies.Refund(shop, created));
        Emit("orders/cancelled", shop => WebhookBodies.Order(shop, order));
        Emit("orders/updated", shop => WebhookBodies.Order(shop, order));
        return order;
    });

    public Order UpdateOrder(long orderId, Action<Order> change) => Mutate(() =>
    {
        var order = RequireOrder(orderId);
        change(order);
        order.UpdatedAt = Bump(order.UpdatedAt);
        Emit("orders/updated", shop => WebhookBodies.Order(shop, order));
        return order;
    });

    /// <summary>Removes the order, as orders/delete reports; its id is kept in <see cref="DeletedOrderIds"/>.</summary>
    public Order DeleteOrder(long orderId) => Mutate(() =>
    {
        var order = RequireOrder(orderId);
        _orders.Remove(order);
        _deletedOrders.Add(orderId);
        Emit("orders/delete", _ => WebhookBodies.IdOnly(orderId));
        return order;
    });

    public Customer AddCustomer(Action<Customer>? change = null) => Mutate(() =>
    {
        var customer = ShopGenerator.NewCustomer(this, Now);
        customer.Statistics.RfmGroup = "PROSPECTS";
        change?.Invoke(customer);
        _customers.Add(customer);
        Emit("customers/create", shop => WebhookBodies.Customer(shop, customer));
        return customer;
    });

    public Customer UpdateCustomer(long customerId, Action<Customer> change) => Mutate(() =>
    {
        var customer = _customers.Find(c => c.Id == customerId) ?? throw new KeyNotFoundException($"No customer {customerId}.");
        change(customer);
        customer.UpdatedAt = Bump(customer.UpdatedAt);
        Emit("customers/update", shop => WebhookBodies.Customer(shop, customer));
        return customer;
    });

    /// <summary>Shopify lets merchants delete only customers without orders; so does this.</summary>
    public Customer DeleteCustomer(long customerId) => Mutate(() =>
    {
        var customer = _customers.Find(c => c.Id == customerId) ?? throw new KeyNotFoundException($"No customer {customerId}.");
        if (OrdersOf(customer).Any())
            throw new InvalidOperationException("Customers with orders cannot be deleted.");
        _customers.Remove(customer);
        Emit("customers/delete", _ => WebhookBodies.CustomerDeleted(customer));
        return customer;
    });

    public Product UpdateProduct(long productId, Action<Product> change) => Mutate(() =>
    {
        var product = _products.Find(p => p.Id == productId) ?? throw new KeyNotFoundException($"No product {productId}.");
        change(product);
        product.UpdatedAt = Bump(product.UpdatedAt);
        Emit("products/update", shop => WebhookBodies.Product(shop, product));
        return product;
    });

    /// <summary>Removes the product; past line items then answer <c>product: null</c>, as on Shopify.</summary>
    public Product DeleteProduct(long productId) => Mutate(() =>
    {
        var product = _products.Find(p => p.Id == productId) ?? throw new KeyNotFoundException($"No product {productId}.");
        _products.Remove(product);
        foreach (var line in _orders.SelectMany(o => o.LineItems).Where(l => l.Product == product))
        {
            line.Product = null;
            line.Variant = null;
        }
        Emit("products/delete", _ => WebhookBodies.IdOnly(productId));
        return product;
    });

    public AbandonedCheckout AddAbandonedCheckout(long? customerId = null, DateTimeOffset? createdAt = null) => Mutate(() =>
    {
        var customer = customerId is { } id ? _customers.Find(c => c.Id == id) ?? throw new KeyNotFoundException($"No customer {id}.") : null;
        var checkout = OrderFactory.BuildCheckout(this, customer, createdAt ?? Now);
        checkout.UpdatedAt = createdAt ?? Now;
        _checkouts.Add(checkout);
        Emit("checkouts/create", shop => WebhookBodies.Checkout(shop, checkout));
        return checkout;
    });

    /// <summary>Completes the checkout (sets <c>completedAt</c>) and places the matching order.</summary>
    public AbandonedCheckout CompleteAbandonedCheckout(long checkoutId) => Mutate(() =>
    {
        var checkout = _checkouts.Find(c => c.Id == checkoutId) ?? throw new KeyNotFoundException($"No checkout {checkoutId}.");
        checkout.CompletedAt = Now;
        checkout.UpdatedAt = Bump(checkout.UpdatedAt);
        var order = OrderFactory.Build(this, new NewOrder
        {
            Customer = checkout.Customer,
            Lines = checkout.LineItems.Where(l => l.Variant is not null).Select(l => (l.Variant!.Id, l.Quantity)).ToList(),
        });
        order.CheckoutToken = checkout.Token;
        _orders.Add(order);
        Emit("checkouts/update", shop => WebhookBodies.Checkout(shop, checkout));
        Emit("orders/create", shop => WebhookBodies.Order(shop, order));
        return checkout;
    });

    private Order RequireOrder(long orderId) => _orders.Find(o => o.Id == orderId) ?? throw new KeyNotFoundException($"No order {orderId}.");

    /// <summary>Now, but never at or before the previous value, so every change is visible to an updated_at filter.</summary>
    private DateTimeOffset Bump(DateTimeOffset previous)
    {
        var now = Now;
        return now > previous ? now : previous.AddSeconds(1);
    }

    private T Mutate<T>(Func<T> change)
    {
        Gate.Wait();
        try
        {
            // Before and after: an index built during the change must not outlive it.
            Interlocked.Increment(ref _changes);
            var result = change();
            Interlocked.Increment(ref _changes);
            UpdatedAt = Bump(UpdatedAt);
            return result;
        }
        finally
        {
            Gate.Release();
        }
    }
}
