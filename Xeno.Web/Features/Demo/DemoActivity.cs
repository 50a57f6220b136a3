using Xeno.ShopifyServer;
using Xeno.ShopifyServer.Model;

namespace Xeno.Web.Features.Demo;

/// <summary>Keeps the demo shops alive: every few seconds a new order, now and then a refund or an abandoned
/// checkout. The Shopify-compatible server delivers each change as a signed webhook to the apps subscribed to it, so
/// a newcomer watches the dashboard move, on the demo account's shop and on the one they installed.</summary>
public sealed class DemoActivity(ShopifyTestServer server, ILogger<DemoActivity> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var random = new Random(2026);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(6));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // Only shops someone is watching: those with webhook subscriptions (an installed or connected store).
            foreach (var shop in server.State.Shops.Where(s => s.WebhookSubscriptions.Count > 0))
            {
                try
                {
                    var customers = shop.Customers;
                    var customer = customers.Count > 0 && random.NextDouble() < 0.7 ? customers[random.Next(customers.Count)] : null;
                    var order = shop.PlaceOrder(new NewOrder { Customer = customer });
                    if (random.NextDouble() < 0.15) shop.AddRefund(order.Id, quantity: 1);
                    if (random.NextDouble() < 0.3) shop.AddAbandonedCheckout(customer?.Id);
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException)
                {
                    logger.LogDebug(e, "A demo change was skipped");
                }
            }
        }
    }
}
