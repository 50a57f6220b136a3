namespace Xeno.Web.Infrastructure.Web;

/// <summary>
/// Refuses to start a production process that lacks what it needs to be safe and to work: Xeno's app credentials and
/// public address (installs and webhooks), and a key-encryption key for the Data Protection key ring. A missing one
/// fails at once with its name, instead of at the first install, or by keeping keys in the clear.
/// </summary>
public static class StartupChecks
{
    public static WebApplicationBuilder CheckXenoConfiguration(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var problems = new List<string>();
        // A rotation's old secret stays valid only for a while: it must say until when.
        if (!string.IsNullOrEmpty(config["Shopify:PreviousApiSecret"]) && !DateTimeOffset.TryParse(config["Shopify:PreviousApiSecretExpiresAt"], out _))
            problems.Add("Shopify__PreviousApiSecret needs Shopify__PreviousApiSecretExpiresAt (an ISO 8601 time, at most a day after the rotation)");

        if (builder.Environment.IsProduction())
        {
            foreach (var (key, variable) in new[]
            {
                ("Shopify:ApiKey", "Shopify__ApiKey"), ("Shopify:ApiSecret", "Shopify__ApiSecret"), ("App:PublicUrl", "App__PublicUrl"),
            })
                if (string.IsNullOrWhiteSpace(config[key])) problems.Add($"{variable} is required in production");
        }
        if (problems.Count > 0)
            throw new InvalidOperationException("Xeno cannot start: " + string.Join("; ", problems) + ". See docs/configuration.md.");
        return builder;
    }
}
