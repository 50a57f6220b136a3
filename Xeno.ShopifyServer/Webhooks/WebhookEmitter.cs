using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>
/// Sends the webhooks a <see cref="ShopifyServerState"/>'s shops raise, signed and with Shopify's headers.
/// Mutations only enqueue: one background sender posts deliveries in the order their events happened
/// (unless <see cref="OutOfOrder"/> says otherwise), and failed ones go back into the queue after a backoff,
/// so a retry lands after newer events, as on Shopify. Thread-safe; every setting may change at any time.
/// </summary>
public sealed class WebhookEmitter : IDisposable
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Job> _queue = new();
    private readonly List<WebhookDelivery> _deliveries = [];
    private readonly HttpClient _http;
    private Random _random = new(1);
    private Job? _held;
    private bool _running;
    private int _pending;
    private TaskCompletionSource _idle = Completed();
    private readonly Dictionary<ShopifyApp, int> _previousSecretUses = [];
    private int _flushWaiters;

    public WebhookEmitter(HttpMessageHandler? handler = null)
    {
        DefaultApp = ShopifyApp.CreateDefault();
        // Shopify gives up connecting after 1 s; the whole request gets Timeout (5 s) per attempt.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1) })
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The app whose secret and TOML URL the properties below stand for (<see cref="ShopifyServerState.DefaultApp"/>).</summary>
    internal ShopifyApp DefaultApp { get; }

    /// <summary>The default app's client secret: X-Shopify-Hmac-Sha256 is base64(HMAC-SHA256(body, secret)). Other apps sign with their own.</summary>
    public string AppSecret
    {
        get => DefaultApp.ClientSecret;
        set => DefaultApp.ClientSecret = value;
    }

    /// <summary>The default app's secret before the last <see cref="RotateAppSecret"/>; Shopify may still sign with it for an hour.</summary>
    public string? PreviousAppSecret
    {
        get => DefaultApp.PreviousClientSecret;
        set => DefaultApp.PreviousClientSecret = value;
    }

    /// <summary>
    /// The default app's <see cref="ShopifyApp.AppWebhookUri"/>: where app-level topics go that no subscription
    /// asks for: customers/redact, customers/data_request and shop/redact (configured in the app's TOML on
    /// Shopify, never through the API), and app/uninstalled when the app has no APP_UNINSTALLED subscription.
    /// When null, they go to every distinct callback URL the app has subscriptions for on the shop.
    /// </summary>
    public string? AppWebhookUri
    {
        get => DefaultApp.AppWebhookUri;
        set => DefaultApp.AppWebhookUri = value;
    }

    /// <summary>Attempts per delivery, the first included (Shopify makes 8 retries over 4 hours).</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Wait before the first retry; it doubles for each further one.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Per attempt; Shopify counts a delivery failed after 5 s without a response.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Chance that a successful delivery is sent once more, with the same webhook and event ids.</summary>
    public double DuplicateProbability { get; set; }

    /// <summary>
    /// While set, every other first delivery is held back and sent right after the delivery that follows it
    /// (1, 2, 3, 4 arrive as 2, 1, 4, 3). A held delivery with nothing after it waits for the next event or
    /// for <see cref="FlushWebhooksAsync"/>.
    /// </summary>
    public bool OutOfOrder { get; set; }

    /// <summary>Every HTTP attempt made, oldest first.</summary>
    public IReadOnlyList<WebhookDelivery> Deliveries
    {
        get { lock (_lock) return _deliveries.ToList(); }
    }

    public void ClearDeliveries()
    {
        lock (_lock) _deliveries.Clear();
    }

    /// <summary>Restarts the random source behind <see cref="DuplicateProbability"/>.</summary>
    public void Reseed(int seed)
    {
        lock (_lock) _random = new Random(seed);
    }

    /// <summary>Makes <paramref name="newSecret"/> the default app's secret and keeps the old one as <see cref="PreviousAppSecret"/>.</summary>
    public void RotateAppSecret(string newSecret) => DefaultApp.RotateSecret(newSecret);

    /// <summary>Signs the default app's next <paramref name="attempts"/> HTTP attempts with <see cref="PreviousAppSecret"/>, as Shopify may just after a rotation.</summary>
    public void SignWithPreviousSecret(int attempts = 1) => SignWithPreviousSecret(DefaultApp, attempts);

    /// <summary>Signs <paramref name="app"/>'s next <paramref name="attempts"/> HTTP attempts with its <see cref="ShopifyApp.PreviousClientSecret"/>.</summary>
    public void SignWithPreviousSecret(ShopifyApp app, int attempts = 1)
    {
        lock (_lock)
        {
            if (app.PreviousClientSecret is null)
                throw new InvalidOperationException(app == DefaultApp
                    ? "There is no previous secret; call RotateAppSecret first."
                    : $"App {app.ClientId} has no previous secret; call RotateSecret first.");
            _previousSecretUses[app] = attempts;
        }
    }

    /// <summary>
    /// Completes when every delivery enqueued so far (retries and duplicates included) has succeeded or run
    /// out of attempts. Releases a delivery held by <see cref="OutOfOrder"/>.
    /// </summary>
    public async Task FlushWebhooksAsync(CancellationToken cancellationToken = default)
    {
        Task idle;
        lock (_lock)
        {
            // While someone flushes, the sender sends a held delivery once nothing else is left to send.
            _flushWaiters++;
            if (_held is not null)
                StartSender();
            idle = _idle.Task;
        }
        try
        {
            await idle.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (_lock) _flushWaiters--;
        }
    }

    /// <summary>base64(HMAC-SHA256(<paramref name="body"/>, <paramref name="secret"/>)), the X-Shopify-Hmac-Sha256 value.</summary>
    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        Convert.ToBase64String(HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), body));

    /// <summary>The <c>WebhookSubscriptionTopic</c> value of a header topic: <c>orders/create</c> → <c>ORDERS_CREATE</c>.</summary>
    public static string TopicEnum(string topic) => topic.Replace('/', '_').ToUpperInvariant();

    /// <summary>Enqueues one event for the shop's subscriptions to <paramref name="topic"/>, whichever app made them; the caller holds the shop's gate.</summary>
    internal void Emit(Shop shop, string topic, Func<byte[]> body)
    {
        var subscriptions = shop.WebhookList.Where(w => w.Topic == TopicEnum(topic)).ToList();
        if (subscriptions.Count == 0)
            return;
        Enqueue(shop, topic, body(), subscriptions.Select(TargetOf));
    }

    /// <summary>
    /// Enqueues one event for <paramref name="app"/>'s subscriptions to <paramref name="topic"/> only (bulk_operations/finish
    /// goes to the app that ran the operation); the caller holds the shop's gate.
    /// </summary>
    internal void EmitTo(Shop shop, ShopifyApp app, string topic, Func<byte[]> body)
    {
        var subscriptions = shop.WebhookList.Where(w => w.Topic == TopicEnum(topic) && (w.App ?? DefaultApp) == app).ToList();
        if (subscriptions.Count == 0)
            return;
        Enqueue(shop, topic, body(), subscriptions.Select(TargetOf));
    }

    /// <summary>
    /// One event of an app-level topic for each of <paramref name="apps"/>: to the app's subscriptions for the
    /// topic, else its <see cref="ShopifyApp.AppWebhookUri"/>, else every distinct URI it subscribed on the shop.
    /// The caller holds the shop's gate.
    /// </summary>
    internal void EmitAppTopic(Shop shop, string topic, byte[] body, IEnumerable<ShopifyApp> apps)
    {
        var targets = new List<Target>();
        foreach (var app in apps.Distinct())
        {
            var owned = shop.WebhookList.Where(w => (w.App ?? DefaultApp) == app).ToList();
            var subscribed = owned.Where(w => w.Topic == TopicEnum(topic)).ToList();
            if (subscribed.Count > 0)
                targets.AddRange(subscribed.Select(TargetOf));
            else if (app.AppWebhookUri is { } uri)
                targets.Add(new Target(uri, null, ShopifySchema.ApiVersion, app));
            else
                targets.AddRange(owned.Select(w => w.Uri).Distinct().Select(u => new Target(u, null, ShopifySchema.ApiVersion, app)));
        }
        Enqueue(shop, topic, body, targets);
    }

    private Target TargetOf(WebhookSubscription subscription) =>
        new(subscription.Uri, subscription.Name, subscription.ApiVersion.Handle, subscription.App ?? DefaultApp);

    private void Enqueue(Shop shop, string topic, byte[] body, IEnumerable<Target> targets)
    {
        var eventId = Guid.NewGuid().ToString();
        var triggeredAt = shop.Now;
        lock (_lock)
        {
            foreach (var target in targets)
            {
                AddPending();
                _queue.AddLast(new Job(shop.MyshopifyDomain, topic, target, Guid.NewGuid().ToString(), eventId, triggeredAt, body, duplicate: false));
            }
            StartSender();
        }
    }

    // Callers hold _lock.
    private void AddPending()
    {
        if (_pending++ == 0)
            _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void StartSender()
    {
        if (_running || (_queue.Count == 0 && _held is null))
            return;
        _running = true;
        _ = Task.Run(SendQueuedAsync);
    }

    private async Task SendQueuedAsync()
    {
        while (true)
        {
            Job job;
            lock (_lock)
            {
                if (_queue.First is { } first)
                {
                    _queue.RemoveFirst();
                    job = first.Value;
                    if (OutOfOrder && _held is null && job.Attempt == 1 && !job.Duplicate)
                    {
                        _held = job;
                        continue;
                    }
                }
                else if (_held is { } held && _flushWaiters > 0)
                {
                    _held = null;
                    job = held;
                }
                else
                {
                    _running = false;
                    return;
                }
            }
            await SendAsync(job);
            Job? next;
            lock (_lock)
            {
                next = _held;
                _held = null;
            }
            if (next is not null)
                await SendAsync(next);
        }
    }

    private async Task SendAsync(Job job)
    {
        // Signed when sent, not when enqueued: a rotation in between takes effect, as on Shopify.
        bool previous;
        string secret;
        lock (_lock)
        {
            var (current, old) = job.App.Secrets();
            previous = _previousSecretUses.GetValueOrDefault(job.App) > 0 && old is not null;
            if (previous)
                _previousSecretUses[job.App]--;
            secret = previous ? old! : current;
        }
        var hmac = Sign(job.Body, secret);
        int? status = null;
        string? error = null;
        var sentAt = DateTimeOffset.UtcNow;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, job.Uri) { Content = new ByteArrayContent(job.Body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.UserAgent.ParseAdd("Shopify-Captain-Hook");
            request.Headers.TryAddWithoutValidation("X-Shopify-Topic", job.Topic);
            request.Headers.TryAddWithoutValidation("X-Shopify-Hmac-Sha256", hmac);
            request.Headers.TryAddWithoutValidation("X-Shopify-Shop-Domain", job.ShopDomain);
            request.Headers.TryAddWithoutValidation("X-Shopify-API-Version", job.ApiVersion);
            request.Headers.TryAddWithoutValidation("X-Shopify-Webhook-Id", job.WebhookId);
            request.Headers.TryAddWithoutValidation("X-Shopify-Event-Id", job.EventId);
            request.Headers.TryAddWithoutValidation("X-Shopify-Triggered-At",
                job.TriggeredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
            // Shopify sends the name only for subscriptions that have one.
            if (job.Name is not null)
                request.Headers.TryAddWithoutValidation("X-Shopify-Name", job.Name);
            using var timeout = new CancellationTokenSource(Timeout);
            using var response = await _http.SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
        }
        catch (Exception e)
        {
            // Whatever went wrong is this attempt's outcome; the sender loop must keep running for the others.
            error = e.GetType().Name + ": " + e.Message;
        }

        var delivery = new WebhookDelivery
        {
            ShopDomain = job.ShopDomain,
            AppClientId = job.App.ClientId,
            Topic = job.Topic,
            Uri = job.Uri,
            WebhookId = job.WebhookId,
            EventId = job.EventId,
            TriggeredAt = job.TriggeredAt,
            SentAt = sentAt,
            Attempt = job.Attempt,
            Duplicate = job.Duplicate,
            SignedWithPreviousSecret = previous,
            Hmac = hmac,
            Body = System.Text.Encoding.UTF8.GetString(job.Body),
            StatusCode = status,
            Error = error,
        };
        TimeSpan? retryIn = null;
        lock (_lock)
        {
            _deliveries.Add(delivery);
            if (!delivery.Succeeded && job.Attempt < MaxAttempts)
                retryIn = RetryDelay * Math.Pow(2, job.Attempt - 1);
            else
            {
                if (delivery.Succeeded && !job.Duplicate && DuplicateProbability > 0 && _random.NextDouble() < DuplicateProbability)
                {
                    AddPending();
                    _queue.AddLast(job.AsDuplicate());
                }
                if (--_pending == 0)
                    _idle.TrySetResult();
            }
        }
        if (retryIn is { } delay)
            _ = RetryLaterAsync(job, delay);
    }

    private async Task RetryLaterAsync(Job job, TimeSpan delay)
    {
        await Task.Delay(delay);
        lock (_lock)
        {
            job.Attempt++;
            _queue.AddLast(job);
            StartSender();
        }
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource();
        done.SetResult();
        return done;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Where one delivery goes, and the app whose secret signs it.</summary>
    private sealed record Target(string Uri, string? Name, string ApiVersion, ShopifyApp App);

    private sealed class Job(string shopDomain, string topic, Target target,
        string webhookId, string eventId, DateTimeOffset triggeredAt, byte[] body, bool duplicate)
    {
        public string ShopDomain { get; } = shopDomain;
        public string Topic { get; } = topic;
        public Target Target { get; } = target;
        public string Uri => Target.Uri;
        public string? Name => Target.Name;
        public string ApiVersion => Target.ApiVersion;
        public ShopifyApp App => Target.App;
        public string WebhookId { get; } = webhookId;
        public string EventId { get; } = eventId;
        public DateTimeOffset TriggeredAt { get; } = triggeredAt;
        public byte[] Body { get; } = body;
        public bool Duplicate { get; } = duplicate;
        public int Attempt { get; set; } = 1;

        public Job AsDuplicate() => new(ShopDomain, Topic, Target, WebhookId, EventId, TriggeredAt, Body, duplicate: true);
    }
}
