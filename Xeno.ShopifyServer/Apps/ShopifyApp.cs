namespace Xeno.ShopifyServer;

/// <summary>How a Shopify app came to be, which decides the ways it may get an access token.</summary>
public enum ShopifyAppKind
{
    /// <summary>A public or unlisted app: installed through the authorization code grant.</summary>
    Public,

    /// <summary>An app a merchant's own organization made in the Dev Dashboard: may also use the client credentials grant on that organization's stores.</summary>
    DevDashboard,

    /// <summary>A custom app made in the Shopify admin (possible only before 2026-01-01): a pasted, never-expiring token.</summary>
    AdminCustom,
}

/// <summary>
/// One app as Shopify knows it: its credentials, where it may redirect after an install, and how long the
/// tokens it gets live. Every access token and webhook subscription belongs to one app, and the app's
/// secret signs its webhooks and OAuth redirects. Settings may change at any time.
/// </summary>
public sealed class ShopifyApp
{
    private readonly Lock _lock = new();

    public required string ClientId { get; init; }

    public required string ClientSecret { get; set; }

    /// <summary>The secret before the last <see cref="RotateSecret"/>: still accepted by the token endpoint, and Shopify may sign webhooks with it for an hour.</summary>
    public string? PreviousClientSecret { get; set; }

    public string Name { get; set; } = "Xeno";

    public ShopifyAppKind Kind { get; set; } = ShopifyAppKind.Public;

    /// <summary>The Dev Dashboard organization that owns the app; the client credentials grant works only on shops of the same organization.</summary>
    public string? OrganizationId { get; set; }

    /// <summary>The app's allowed redirection URLs; <c>/admin/oauth/authorize</c> refuses any other <c>redirect_uri</c>.</summary>
    public List<string> RedirectUris { get; set; } = [];

    /// <summary>Lifetime of an expiring offline access token (<c>expiring=1</c> and refresh grants).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(90);

    public TimeSpan ClientCredentialsTokenLifetime { get; set; } = TimeSpan.FromSeconds(86_399);

    /// <summary>
    /// The app's own webhook URL from its TOML: where privacy/compliance topics go, and app/uninstalled when the
    /// app has no APP_UNINSTALLED subscription on the shop.
    /// </summary>
    public string? AppWebhookUri { get; set; }

    /// <summary>The scopes the app is configured with: what a client credentials token gets, and an install that asks for none.</summary>
    public string Scopes { get; set; } = "read_products,read_customers,read_orders,read_all_orders";

    /// <summary>Makes <paramref name="newSecret"/> the secret and keeps the old one as <see cref="PreviousClientSecret"/>.</summary>
    public void RotateSecret(string newSecret)
    {
        lock (_lock)
        {
            PreviousClientSecret = ClientSecret;
            ClientSecret = newSecret;
        }
    }

    /// <summary>Both secrets read together, so that a rotation in between cannot mix an old current with a new previous.</summary>
    internal (string Current, string? Previous) Secrets()
    {
        lock (_lock) return (ClientSecret, PreviousClientSecret);
    }

    /// <summary>True for the current or the previous secret, compared in constant time.</summary>
    internal bool AcceptsSecret(string? secret)
    {
        if (secret is null)
            return false;
        var (current, previous) = Secrets();
        return SecretEquals(current, secret) | (previous is not null && SecretEquals(previous, secret));
    }

    private static bool SecretEquals(string expected, string actual) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(expected), System.Text.Encoding.UTF8.GetBytes(actual));

    /// <summary>The one app a state starts with: tokens added without an app, and the global webhook secret, are its.</summary>
    internal static ShopifyApp CreateDefault() => new()
    {
        ClientId = "xeno-default-app",
        ClientSecret = "xeno-test-app-secret",
        Kind = ShopifyAppKind.Public,
    };
}
