using GraphQLParser.AST;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>
/// One shop's bulk operations (<c>shop.Bulk</c>): settings, test switches and every operation run so far.
/// Thread-safe; settings apply to operations started after the change.
/// </summary>
public sealed class ShopBulkOperations
{
    /// <summary>The values of the schema's <c>BulkOperationErrorCode</c>.</summary>
    public static readonly IReadOnlyList<string> ErrorCodes = ["ACCESS_DENIED", "INTERNAL_SERVER_ERROR", "TIMEOUT"];

    private readonly Lock _lock = new();
    private readonly Shop _shop;
    private readonly List<BulkOperationRun> _runs = [];
    private readonly Queue<BulkFailure> _failures = new();
    private long _nextId;
    private int _downloadsToCut;
    private string? _resultDirectory;

    internal ShopBulkOperations(Shop shop)
    {
        _shop = shop;
        // Ids of their own, not drawn from the shop's random source: running a bulk query must not change the
        // orders a seeded shop places afterwards.
        _nextId = 4_046_000_000_000L + shop.Id % 1_000_000L * 1_000L;
    }

    /// <summary>
    /// How long an operation takes at least, from creation to COMPLETED (real time; writing the file counts
    /// towards it). Default 10 ms; a benchmark may set a minute, as large exports take on Shopify.
    /// </summary>
    public TimeSpan ProcessingDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Bulk queries one app may run at once on the shop (5 since API version 2026-01).</summary>
    public int MaxConcurrentQueries { get; set; } = 5;

    /// <summary>How long result links work after the operation finishes (Shopify: 7 days, by the shop's clock).</summary>
    public TimeSpan ResultLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Top-level objects executed per page; the shop's lock is held for one page at a time.</summary>
    public int PageSize { get; set; } = 250;

    /// <summary>Where result files go; default a folder of its own under the system's temp folder.</summary>
    public string ResultDirectory
    {
        get
        {
            lock (_lock)
                return _resultDirectory ??= Path.Combine(Path.GetTempPath(), "xeno-shopify-bulk", Guid.NewGuid().ToString("N"));
        }
        set
        {
            lock (_lock)
                _resultDirectory = value;
        }
    }

    /// <summary>Every operation so far, oldest first, as it stands now.</summary>
    public IReadOnlyList<BulkOperation> Operations => Runs().Select(r => r.Snapshot()).ToList();

    /// <summary>An operation by GID (<c>gid://shopify/BulkOperation/…</c>), whichever app started it.</summary>
    public BulkOperation? Find(string id) => FindRun(id, app: null)?.Snapshot();

    /// <summary>Waits until the operation has finished (COMPLETED, FAILED or CANCELED) and returns it.</summary>
    public async Task<BulkOperation> WaitAsync(string id, CancellationToken cancellationToken = default)
    {
        var run = FindRun(id, app: null) ?? throw new KeyNotFoundException($"No bulk operation {id}.");
        await run.Finished.WaitAsync(cancellationToken);
        return run.Snapshot();
    }

    /// <summary>
    /// Makes the next operation FAILED with <paramref name="errorCode"/> once it has written
    /// <paramref name="partialFraction"/> of its top-level objects: that prefix of its lines is served at
    /// <c>partialDataUrl</c> (none when 0). Several calls fail as many operations, in order.
    /// </summary>
    public void FailNext(string errorCode = "INTERNAL_SERVER_ERROR", double partialFraction = 0.5)
    {
        if (!ErrorCodes.Contains(errorCode))
            throw new ArgumentException($"{errorCode} is no BulkOperationErrorCode; use one of {string.Join(", ", ErrorCodes)}.", nameof(errorCode));
        ArgumentOutOfRangeException.ThrowIfLessThan(partialFraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partialFraction, 1);
        lock (_lock)
            _failures.Enqueue(new BulkFailure(errorCode, partialFraction));
    }

    /// <summary>Expires the operation's results now: its links answer 403 and a completed operation turns EXPIRED.</summary>
    public void ExpireResults(string id) =>
        (FindRun(id, app: null) ?? throw new KeyNotFoundException($"No bulk operation {id}.")).ExpireNow();

    /// <summary>
    /// The next <paramref name="times"/> downloads of this shop's results announce their full length, send part of
    /// it and drop the connection, as a flaky network would; a client resumes with a Range request.
    /// </summary>
    /// <summary>Downloads broken off so far (see <see cref="CutDownloads"/>).</summary>
    public int DownloadsCut { get; private set; }

    public void CutDownloads(int times = 1)
    {
        lock (_lock)
            _downloadsToCut += times;
    }

    /// <summary>Deletes every result file of this shop; their links answer 403 from then on.</summary>
    public void DeleteResultFiles()
    {
        var directory = ResultDirectory;
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }

    internal BulkOperationRun? FindRun(string id, ShopifyApp? app)
    {
        if (!ShopifyGid.TryParse(id, out var type, out var number) || type != "BulkOperation")
            return null;
        return Runs().Find(r => r.Id == number && (app is null || r.App == app));
    }

    internal List<BulkOperationRun> RunsOf(ShopifyApp app) => Runs().Where(r => r.App == app).ToList();

    /// <summary>
    /// Starts a validated query for <paramref name="app"/> and returns it as created (CREATED, whatever the run has
    /// reached since), or returns null with the newest operation in progress when the app already runs
    /// <see cref="MaxConcurrentQueries"/>.
    /// </summary>
    internal BulkOperation? Start(ShopifyApp app, string query, GraphQLDocument document, bool groupObjects, string origin, out BulkOperationRun? busy)
    {
        BulkOperationRun run;
        lock (_lock)
        {
            var running = _runs.Where(r => r.App == app && r.InProgress).ToList();
            if (running.Count >= MaxConcurrentQueries)
            {
                busy = running[^1];
                return null;
            }
            busy = null;
            _failures.TryDequeue(out var failure);
            run = new BulkOperationRun(this, _shop, app, _nextId, query, document, groupObjects, origin, ProcessingDelay, failure);
            _nextId += 104_729;
            _runs.Add(run);
        }
        var created = run.Snapshot();
        run.Start();
        return created;
    }

    /// <summary>The file and expiry of a result token, when it is one of this shop's.</summary>
    internal (string Path, bool Expired)? Result(string token)
    {
        foreach (var run in Runs())
            if (run.Result(token) is { } result)
                return result;
        return null;
    }

    internal bool TakeDownloadToCut()
    {
        lock (_lock)
        {
            if (_downloadsToCut <= 0)
                return false;
            _downloadsToCut--;
            DownloadsCut++;
            return true;
        }
    }

    /// <summary>Cancels what still runs and deletes the files: the server that served them is gone.</summary>
    internal async Task StopAsync()
    {
        var runs = Runs();
        foreach (var run in runs)
            run.RequestCancel(out _);
        await Task.WhenAll(runs.Select(r => r.Finished));
        DeleteResultFiles();
    }

    private List<BulkOperationRun> Runs()
    {
        lock (_lock)
            return _runs.ToList();
    }
}
