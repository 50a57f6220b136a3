using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Xeno.Web.Tests.Infrastructure;

/// <summary>An OTLP/HTTP collector on loopback that keeps what it receives (protobuf bodies, by signal), for tests of
/// what Xeno exports. Protobuf keeps strings as plain UTF-8, so names and attributes can be looked for in the bytes.</summary>
public sealed class TestCollector : IAsyncDisposable
{
    private HttpListener _listener = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();
    private readonly Task _loop;

    public TestCollector()
    {
        for (var attempt = 0; ; attempt++)
        {
            Port = Random.Shared.Next(20000, 60000);
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try { _listener.Start(); break; }
            catch (HttpListenerException) when (attempt < 20)
            {
                // A port in use: the listener that failed to start is closed for good, so another one tries the next port.
                _listener = new HttpListener();
            }
        }
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; private set; }
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>Everything received for a signal ("traces", "metrics", "logs"), as text (binary parts garbled, strings intact).</summary>
    public string Received(string signal) =>
        string.Join("\n", _received.Where(r => r.Path.EndsWith("/" + signal)).Select(r => Encoding.UTF8.GetString(r.Body)));

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            // A bound: a long run exports a lot, and the tests look for names, not volume.
            if (_received.Count < 20_000) _received.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}

/// <summary>Keeps every log line Xeno's host writes (message, structured values and exception), for the test that no
/// secret or personal data reaches the logs.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            owner._lines.Enqueue($"{category} scope: {Describe(state)}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (owner._lines.Count > 200_000) return;
            owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {Describe(state)} {exception}");
        }

        private static string Describe(object? state) => state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}"))
            : state?.ToString() ?? "";
    }
}
