using System.Diagnostics;
using System.Security.Cryptography;
using GraphQLParser.AST;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>
/// One bulk query from creation to its end: runs in the background, writes the JSONL file, waits out the shop's
/// processing delay, then completes (or fails, or is canceled) and sends <c>bulk_operations/finish</c>.
/// Its state changes under a lock and is read as <see cref="BulkOperation"/> snapshots.
/// </summary>
internal sealed class BulkOperationRun
{
    private readonly Lock _lock = new();
    private readonly Shop _shop;
    private readonly ShopBulkOperations _owner;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Stopwatch _sinceCreation = Stopwatch.StartNew();
    private readonly TimeSpan _processingDelay;
    private readonly BulkFailure? _failure;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string _status = "CREATED";
    private string? _errorCode;
    private DateTimeOffset? _completedAt;
    private long _objectCount;
    private long _rootObjectCount;
    private long? _fileSize;
    private bool _hasResult;
    private bool _hasPartialResult;
    private DateTimeOffset? _expiresAt;

    public BulkOperationRun(ShopBulkOperations owner, Shop shop, ShopifyApp app, long id, string query, GraphQLDocument document,
        bool groupObjects, string origin, TimeSpan processingDelay, BulkFailure? failure)
    {
        _owner = owner;
        _shop = shop;
        App = app;
        Id = id;
        Query = query;
        Document = document;
        GroupObjects = groupObjects;
        Origin = origin.TrimEnd('/');
        _processingDelay = processingDelay;
        _failure = failure;
        CreatedAt = shop.Now;
        FilePath = Path.Combine(owner.ResultDirectory, id.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".jsonl");
        // Opaque, unguessable names, as signed storage URLs are: knowing one operation's URL reveals no other.
        ResultToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        PartialToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    }

    public long Id { get; }
    public string Gid => ShopifyGid.Format("BulkOperation", Id);
    public ShopifyApp App { get; }
    public string Query { get; }
    public GraphQLDocument Document { get; }
    public bool GroupObjects { get; }
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Scheme, host and route prefix of the request that created it: where its files are served.</summary>
    public string Origin { get; }

    public string ResultToken { get; }
    public string PartialToken { get; }
    public string FilePath { get; }

    /// <summary>Why the operation failed unasked (an execution error, a full disk), for debugging.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Completes when the operation has finished, whichever way, its webhook enqueued.</summary>
    public Task Finished => _finished.Task;

    public bool InProgress
    {
        get { lock (_lock) return _status is "CREATED" or "RUNNING" or "CANCELING"; }
    }

    public void Start() => _ = Task.Run(RunAsync);

    public BulkOperation Snapshot()
    {
        lock (_lock)
        {
            // Expiry happens by the clock, so it is noticed when someone looks.
            if (_status == "COMPLETED" && ResultsExpired())
            {
                _status = "EXPIRED";
                TryDelete(FilePath);
            }
            return new BulkOperation
            {
                Id = Id,
                Status = _status,
                ErrorCode = _errorCode,
                CreatedAt = CreatedAt,
                CompletedAt = _completedAt,
                ObjectCount = _objectCount,
                RootObjectCount = _rootObjectCount,
                FileSize = _hasResult ? _fileSize : null,
                Url = _hasResult ? ResultUrl(ResultToken) : null,
                PartialDataUrl = _hasPartialResult ? ResultUrl(PartialToken) : null,
                Query = Query,
                GroupObjects = GroupObjects,
                AppClientId = App.ClientId,
            };
        }
    }

    /// <summary>The file behind a result token and whether its link has run out, or null when the token is not this run's.</summary>
    public (string Path, bool Expired)? Result(string token)
    {
        lock (_lock)
        {
            var served = (token == ResultToken && _hasResult) || (token == PartialToken && _hasPartialResult);
            return served ? (FilePath, ResultsExpired()) : null;
        }
    }

    /// <summary>Starts canceling: false (and the status it has) when it has already finished.</summary>
    public bool RequestCancel(out string status)
    {
        lock (_lock)
        {
            status = _status;
            if (_status is not ("CREATED" or "RUNNING"))
                return _status == "CANCELING";
            _status = status = "CANCELING";
        }
        _cancel.Cancel();
        return true;
    }

    /// <summary>Makes the result links answer 403 from now on (and a completed operation EXPIRED).</summary>
    public void ExpireNow()
    {
        lock (_lock)
            _expiresAt = _shop.Now;
    }

    internal void Progress(long objects, long roots)
    {
        lock (_lock)
        {
            _objectCount = objects;
            _rootObjectCount = roots;
        }
    }

    private async Task RunAsync()
    {
        lock (_lock)
        {
            if (_status == "CREATED")
                _status = "RUNNING";
        }
        var token = _cancel.Token;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            var written = await BulkQueryRunner.WriteAsync(this, _shop, _owner.PageSize, _failure?.PartialFraction, token);
            if (_failure is { } failure)
            {
                Finish("FAILED", failure.ErrorCode, written, partial: written.Objects > 0);
                return;
            }
            var remaining = _processingDelay - _sinceCreation.Elapsed;
            if (remaining > TimeSpan.Zero)
                await Task.Delay(remaining, token);
            Finish("COMPLETED", null, written, partial: false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            TryDelete(FilePath);
            Finish("CANCELED", null, null, partial: false);
        }
        catch (Exception ex)
        {
            // Whatever went wrong ends the operation, as Shopify reports what it could not finish: an internal
            // error, with whatever was written as partial data. The reason is kept for whoever debugs a test.
            FailureReason = ex.Message;
            BulkWriteResult? written = null;
            lock (_lock)
                if (File.Exists(FilePath))
                    written = new BulkWriteResult(_objectCount, _rootObjectCount, new FileInfo(FilePath).Length);
            Finish("FAILED", "INTERNAL_SERVER_ERROR", written, partial: written is { Objects: > 0 });
        }
        finally
        {
            _finished.TrySetResult();
        }
    }

    private void Finish(string status, string? errorCode, BulkWriteResult? written, bool partial)
    {
        lock (_lock)
        {
            _status = status;
            _errorCode = errorCode;
            _completedAt = _shop.Now;
            // ExpireResults may have come first; it stands.
            _expiresAt ??= _completedAt + _owner.ResultLifetime;
            if (written is { } w)
            {
                _objectCount = w.Objects;
                _rootObjectCount = w.Roots;
                _fileSize = w.Bytes;
            }
            _hasResult = status == "COMPLETED";
            _hasPartialResult = partial;
        }
        var finished = Snapshot();
        _shop.Locked(() => _shop.Webhooks?.EmitTo(_shop, App, "bulk_operations/finish", () => WebhookBodies.BulkOperationFinish(_shop, finished)));
    }

    /// <summary>Caller holds the lock.</summary>
    private bool ResultsExpired() => _expiresAt is { } expiresAt && _shop.Now >= expiresAt;

    private string ResultUrl(string token) => Origin + "/bulk-results/" + token + ".jsonl";

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A download still reading it keeps its handle; the link answers 403 either way.
        }
    }
}

/// <summary>How the next operation fails: its error code and the share of top-level objects written before it.</summary>
internal sealed record BulkFailure(string ErrorCode, double PartialFraction);

/// <summary>What a run wrote: lines, top-level lines and bytes.</summary>
internal readonly record struct BulkWriteResult(long Objects, long Roots, long Bytes);

/// <summary>The bulk query could not be executed (an execution error in some page).</summary>
internal sealed class BulkQueryFailedException(string message) : Exception(message);
