using System.Globalization;
using System.Text;
using System.Text.Json;
using GraphQL;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>
/// Relay pagination the way Shopify does it: the list is filtered by <c>query</c>, ordered by
/// <c>sortKey</c> then id, and cursors hold the last item's sort value and id (base64 JSON), so a page
/// boundary stays put when items are added or re-sorted between requests.
/// </summary>
internal static class Connections
{
    public const int MaxPageSize = 250;

    public static GraphObject Page(IEnumerable<object> source, string connectionType, IResolveFieldContext ctx)
    {
        var requestContext = GraphResolvers.RequestContext(ctx);
        if (requestContext.Bulk is { } bulk)
            return BulkPage(source, connectionType, ctx, requestContext, bulk);
        var first = Argument<int?>(ctx, "first");
        var last = Argument<int?>(ctx, "last");
        if (first is null && last is null)
            throw new ShopifyExecutionError("you must provide one of first or last", "BAD_REQUEST");
        if (first > MaxPageSize || last > MaxPageSize)
            throw new ShopifyExecutionError(PageSizeMessage(ctx.FieldDefinition.Name), "BAD_REQUEST");
        if (first < 0 || last < 0)
            throw new ShopifyExecutionError("first and last must be positive", "BAD_REQUEST");

        var items = Ordered(source, connectionType, ctx, requestContext, out var sortKey, out var reverse);

        var start = 0;
        var end = items.Count;
        if (Argument<string?>(ctx, "after") is { } after && DecodeCursor(after, sortKey) is { } afterKey)
            start = items.FindIndex(i => IsAfter(i.Key, afterKey, reverse)) is var s and >= 0 ? s : items.Count;
        if (Argument<string?>(ctx, "before") is { } before && DecodeCursor(before, sortKey) is { } beforeKey)
            end = Math.Max(start, items.FindLastIndex(i => IsAfter(beforeKey, i.Key, reverse)) + 1);
        if (first is { } f)
            end = Math.Min(end, start + f);
        if (last is { } l)
            start = Math.Max(start, end - l);

        var window = items.GetRange(start, end - start);
        if (ctx.ParentType == ctx.Schema.Query)
            requestContext.RootPageSizes[ctx.FieldAst.Alias?.Name.StringValue ?? ctx.FieldDefinition.Name] = window.Count;

        var edgeType = connectionType[..^"Connection".Length] + "Edge";
        var edges = window.Select(i => new GraphObject(edgeType, new() { ["cursor"] = EncodeCursor(i.Key), ["node"] = i.Item })).ToList();
        return new GraphObject(connectionType, new()
        {
            ["edges"] = edges,
            ["nodes"] = window.Select(i => i.Item).ToList(),
            ["pageInfo"] = new GraphObject("PageInfo", new()
            {
                ["hasNextPage"] = end < items.Count,
                ["hasPreviousPage"] = start > 0,
                ["startCursor"] = window.Count > 0 ? EncodeCursor(window[0].Key) : null,
                ["endCursor"] = window.Count > 0 ? EncodeCursor(window[^1].Key) : null,
            }),
        });
    }

    /// <summary>The items filtered by <c>query</c> and ordered by <c>sortKey</c> (then id) and <c>reverse</c>.</summary>
    private static List<Keyed> Ordered(IEnumerable<object> source, string connectionType, IResolveFieldContext ctx, ShopifyRequestContext requestContext,
        out string sortKey, out bool reverse)
    {
        var key = sortKey = Argument<object?>(ctx, "sortKey")?.ToString() ?? "ID";
        var search = SearchQuery.Parse(Argument<string?>(ctx, "query"), requestContext.Shop.TimeZone);
        // bulkOperations lists the newest first unless reversed, as Shopify documents.
        reverse = (Argument<bool?>(ctx, "reverse") ?? false) ^ (connectionType == "BulkOperationConnection");

        // A plain loop: LINQ over these covariant lists (List<LineItem> as IEnumerable<object>) pays for failed
        // interface casts on every call, which a bulk export makes millions of times.
        var items = new List<Keyed>();
        foreach (var item in source)
            if (item is not GraphModel model || search.Matches(model))
                items.Add(new Keyed(item, KeyOf(item, key, items.Count)));
        items.Sort((a, b) => CompareKeys(a.Key, b.Key));
        if (reverse)
            items.Reverse();
        return items;
    }

    /// <summary>
    /// A connection inside a bulk query: every item (bulk queries ignore <c>first</c>, <c>last</c> and cursors),
    /// except at the top, which answers the current page of the list taken on the first page. Cursors are left
    /// out: the JSONL never shows them.
    /// </summary>
    private static GraphObject BulkPage(IEnumerable<object> source, string connectionType, IResolveFieldContext ctx, ShopifyRequestContext requestContext, BulkExecution bulk)
    {
        List<object> window;
        if (ctx.ParentType == ctx.Schema.Query)
        {
            var all = bulk.RootItems ??= Ordered(source, connectionType, ctx, requestContext, out _, out _).ConvertAll(i => i.Item);
            window = all.GetRange(Math.Min(bulk.PageStart, all.Count), Math.Clamp(all.Count - bulk.PageStart, 0, bulk.PageSize));
        }
        else
        {
            window = Ordered(source, connectionType, ctx, requestContext, out _, out _).ConvertAll(i => i.Item);
        }
        var edgeType = connectionType[..^"Connection".Length] + "Edge";
        return new GraphObject(connectionType, new()
        {
            ["edges"] = window.ConvertAll(item => new GraphObject(edgeType, new() { ["node"] = item })),
            ["nodes"] = window,
            ["pageInfo"] = new GraphObject("PageInfo", new() { ["hasNextPage"] = false, ["hasPreviousPage"] = false }),
        });
    }

    internal static string PageSizeMessage(string field) =>
        $"The maximum number of items that can be requested in a single page of {field} is {MaxPageSize}.";

    /// <summary>The argument's value (its default when not given), read straight from the context when already of type T.</summary>
    private static T? Argument<T>(IResolveFieldContext ctx, string name)
    {
        if (ctx.Arguments is null || !ctx.Arguments.TryGetValue(name, out var argument))
            return default;
        return argument.Value switch
        {
            null => default,
            T typed => typed,
            _ => ctx.GetArgument<T>(name),
        };
    }

    private readonly record struct Keyed(object Item, CursorKey Key);

    /// <summary>Sort value (null when sorting by id) and id; items without ids use their position.</summary>
    private readonly record struct CursorKey(object? Value, long Id);

    private static CursorKey KeyOf(object item, string sortKey, int index) => item switch
    {
        GraphModel model => new CursorKey(sortKey == "ID" ? null : model.SortValue(sortKey), model.Id),
        _ => new CursorKey(null, index),
    };

    private static int CompareKeys(CursorKey a, CursorKey b)
    {
        var byValue = CompareValues(a.Value, b.Value);
        return byValue != 0 ? byValue : a.Id.CompareTo(b.Id);
    }

    private static bool IsAfter(CursorKey item, CursorKey cursor, bool reverse)
    {
        var comparison = CompareKeys(item, cursor);
        return reverse ? comparison < 0 : comparison > 0;
    }

    /// <summary>Compares an item's typed value with one that may come from a cursor as a string.</summary>
    private static int CompareValues(object? a, object? b)
    {
        if (a is null || b is null)
            return (a is null ? 0 : 1) - (b is null ? 0 : 1);
        if (a is string sa && b is not string)
            return -CompareValues(b, sa);
        if (b is string sb && a is not string)
            b = ParseLike(a, sb);
        return a is IComparable comparable && a.GetType() == b.GetType()
            ? comparable.CompareTo(b)
            : string.CompareOrdinal(a.ToString(), b.ToString());
    }

    private static object ParseLike(object typed, string text) => typed switch
    {
        DateTimeOffset => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        long => long.Parse(text, CultureInfo.InvariantCulture),
        int => int.Parse(text, CultureInfo.InvariantCulture),
        decimal => decimal.Parse(text, CultureInfo.InvariantCulture),
        bool => bool.Parse(text),
        _ => text,
    };

    private static string EncodeCursor(CursorKey key)
    {
        var value = key.Value switch
        {
            null => null,
            DateTimeOffset at => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            var other => other.ToString(),
        };
        var json = JsonSerializer.Serialize(new Dictionary<string, object?> { ["last_id"] = key.Id, ["last_value"] = value ?? key.Id.ToString(CultureInfo.InvariantCulture) });
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
    }

    private static CursorKey? DecodeCursor(string cursor, string sortKey)
    {
        try
        {
            using var json = JsonDocument.Parse(Convert.FromBase64String(cursor));
            var id = json.RootElement.GetProperty("last_id").GetInt64();
            var value = json.RootElement.GetProperty("last_value").GetString();
            return new CursorKey(sortKey == "ID" || value == id.ToString(CultureInfo.InvariantCulture) ? null : value, id);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ShopifyExecutionError("Invalid cursor for current pagination sort.", "BAD_REQUEST");
        }
    }
}

/// <summary>An execution error carrying Shopify's <c>extensions.code</c>.</summary>
internal sealed class ShopifyExecutionError : ExecutionError
{
    public ShopifyExecutionError(string message, string code) : base(message) => Code = code;
}
