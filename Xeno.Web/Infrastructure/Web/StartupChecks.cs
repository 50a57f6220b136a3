namespace Xeno.Web.Infrastructure.Web;

/// <summary>
/// Refuses to start a process that lacks what it needs to be safe and to work: a key-encryption key for the Data
/// Protection key ring, a JWT key where it cannot use the generated one, and in production Xeno's app credentials and
/// public address (installs and webhooks). A missing one fails at once with its name, instead of at the first install,
/// or by keeping keys in the clear.
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

        // A process given only the app and secrets roles cannot read the JWT key Xeno generates (the owner keeps it).
        var ownerGiven = !string.IsNullOrWhiteSpace(config.GetConnectionString("Xeno")) || !string.IsNullOrWhiteSpace(config["DATABASE_URL"]);
        if (!ownerGiven && !string.IsNullOrWhiteSpace(config.GetConnectionString("XenoApp")) && string.IsNullOrWhiteSpace(config["Jwt:SigningKey"]))
            problems.Add("Jwt__SigningKey is required in a process without ConnectionStrings__Xeno");

        // Every environment: without a KEK the key ring would be kept in the clear (demo mode makes its own).
        try { KeyEncryptionKeys.From(config, builder.Environment); }
        catch (InvalidOperationException e) { problems.Add(e.Message); }

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
