namespace Xeno.ShopifyServer.Model;

public sealed class Product : TimestampedModel
{
    public string Title { get; set; } = "";
    public string Handle { get; set; } = "";
    public string Vendor { get; set; } = "";
    public string ProductType { get; set; } = "";
    /// <summary>A <c>ProductStatus</c>: ACTIVE, ARCHIVED, DRAFT or UNLISTED.</summary>
    public string Status { get; set; } = "ACTIVE";
    public DateTimeOffset? PublishedAt { get; set; }
    public List<string> Tags { get; set; } = [];
    public bool IsGiftCard { get; set; }
    public string DescriptionHtml { get; set; } = "";
    public string Description => DescriptionHtml;
    public List<ProductVariant> Variants { get; } = [];
    public int TotalInventory => Variants.Sum(v => v.InventoryQuantity ?? 0);
    public bool TracksInventory => true;
    public bool HasOnlyDefaultVariant => Variants.Count == 1 && Variants[0].Title == "Default Title";
    public bool HasOutOfStockVariants => Variants.Any(v => v.InventoryQuantity <= 0);

    internal override IComparable? SortValue(string sortKey) => sortKey switch
    {
        "TITLE" => Title,
        "VENDOR" => Vendor,
        "PRODUCT_TYPE" => ProductType,
        "INVENTORY_TOTAL" => TotalInventory,
        "PUBLISHED_AT" => PublishedAt ?? DateTimeOffset.MinValue,
        _ => base.SortValue(sortKey),
    };

    internal override object? SearchValue(string field) => field switch
    {
        "title" => Title,
        "vendor" => Vendor,
        "product_type" => ProductType,
        "status" => Status.ToLowerInvariant(),
        "handle" => Handle,
        _ => base.SearchValue(field),
    };
}

public sealed class ProductVariant : TimestampedModel
{
    internal Product ProductRef { get; set; } = null!;
    public Product Product => ProductRef;
    public string Title { get; set; } = "Default Title";
    public string? Sku { get; set; }
    public string? Barcode { get; set; }
    /// <summary>In the shop's currency (the <c>Money</c> scalar).</summary>
    public decimal Price { get; set; }
    public decimal? CompareAtPrice { get; set; }
    public int Position { get; set; } = 1;
    public int? InventoryQuantity { get; set; }
    public bool Taxable { get; set; } = true;
    public bool AvailableForSale => InventoryQuantity is null or > 0;
    public string DisplayName => ProductRef.Title + " - " + Title;
    public string InventoryPolicy => "DENY";
}
