using System.Globalization;

namespace Xeno.ShopifyServer.Model;

/// <summary>
/// Base of every stored Shopify object. Properties are named after the schema's fields (PascalCase),
/// so the generic resolver can answer any field the schema has; <see cref="Extra"/> holds fields
/// without a typed property, keyed by the schema's camelCase name.
/// </summary>
public abstract class GraphModel
{
    /// <summary>The numeric id; the GraphQL <c>id</c> is its GID and <c>legacyResourceId</c> its decimal string.</summary>
    public long Id { get; set; }

    /// <summary>The GraphQL object type this model answers as.</summary>
    public virtual string GraphTypeName => GetType().Name;

    public string Gid => ShopifyGid.Format(GraphTypeName, Id);

    public long LegacyResourceId => Id;

    /// <summary>Created on first use: a million-order shop would otherwise hold millions of empty dictionaries.</summary>
    public Dictionary<string, object?> Extra => _extra ??= new(StringComparer.Ordinal);

    private Dictionary<string, object?>? _extra;

    /// <summary>An <see cref="Extra"/> entry, read without creating the dictionary.</summary>
    internal object? ExtraValue(string field) => _extra?.GetValueOrDefault(field);

    /// <summary>The value a <c>sortKey</c> orders by, or null when this type has no such key.</summary>
    internal virtual IComparable? SortValue(string sortKey) => sortKey switch
    {
        "ID" => Id,
        _ => null,
    };

    /// <summary>The value a search term such as <c>updated_at:&gt;=…</c> compares against.</summary>
    internal virtual object? SearchValue(string field) => field switch
    {
        "id" => Id,
        _ => SearchQuery.UnknownField,
    };
}

/// <summary>A model that Shopify timestamps; mutations bump <see cref="UpdatedAt"/>.</summary>
public abstract class TimestampedModel : GraphModel
{
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal override IComparable? SortValue(string sortKey) => sortKey switch
    {
        "CREATED_AT" => CreatedAt,
        "UPDATED_AT" => UpdatedAt,
        _ => base.SortValue(sortKey),
    };

    internal override object? SearchValue(string field) => field switch
    {
        "created_at" => CreatedAt,
        "updated_at" => UpdatedAt,
        _ => base.SearchValue(field),
    };
}

public static class ShopifyGid
{
    public static string Format(string type, long id) => "gid://shopify/" + type + "/" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Splits <c>gid://shopify/Order/123</c>; query strings (as on InventoryLevel GIDs) are ignored.</summary>
    public static bool TryParse(string? gid, out string type, out long id)
    {
        type = "";
        id = 0;
        const string prefix = "gid://shopify/";
        if (gid is null || !gid.StartsWith(prefix, StringComparison.Ordinal))
            return false;
        var rest = gid.AsSpan(prefix.Length);
        var query = rest.IndexOf('?');
        if (query >= 0)
            rest = rest[..query];
        var slash = rest.IndexOf('/');
        if (slash <= 0)
            return false;
        type = rest[..slash].ToString();
        return long.TryParse(rest[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }
}
