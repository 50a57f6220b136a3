namespace Xeno.Web.Features.Demo;

/// <summary>The demo shop a newcomer can connect while demo mode runs (shown on the stores page).</summary>
public sealed class DemoShopInfo
{
    public string? ShopDomain { get; set; }
    public string? AccessToken { get; set; }
}
