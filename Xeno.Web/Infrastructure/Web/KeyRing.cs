using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Infrastructure.Web;

/// <summary>
/// The Data Protection key ring (which encrypts the stores' Shopify tokens and secrets) lives in PostgreSQL so that
/// every process shares it, on the secrets role only, and each key in it is encrypted under a key-encryption key (KEK)
/// that never enters the database: <c>DataProtection__KeyEncryptionKey</c>, 32 random bytes in base64. A dump of the
/// database alone decrypts nothing. Keys written under an earlier KEK stay readable while that KEK is listed in
/// <c>DataProtection__PreviousKeyEncryptionKeys</c>. Demo mode makes a KEK of its own and keeps it under <c>.data/</c>.
/// </summary>
public static class KeyRing
{
    public static WebApplicationBuilder AddXenoKeyRing(this WebApplicationBuilder builder)
    {
        // Read when first needed; StartupChecks has already refused to start without a valid KEK.
        builder.Services.AddSingleton(_ => KeyEncryptionKeys.From(builder.Configuration, builder.Environment));
        builder.Services.AddDataProtection().SetApplicationName("Xeno").PersistKeysToDbContext<SecretsDb>();
        builder.Services.AddOptions<KeyManagementOptions>().Configure<KeyEncryptionKeys>((o, keys) => o.XmlEncryptor = new KekXmlEncryptor(keys));
        builder.Services.AddHostedService<ProtectClearKeys>();
        return builder;
    }

    /// <summary>Encrypts, in place, the keys that an earlier Xeno stored in the clear, so that upgrading closes the hole
    /// for the tokens those keys protect too. Idempotent: a key already encrypted has nothing left to protect.</summary>
    public static async Task<int> ProtectClearKeysAsync(SecretsDb db, KeyEncryptionKeys keys, CancellationToken ct = default)
    {
        var encryptor = new KekXmlEncryptor(keys);
        var changed = 0;
        foreach (var row in await db.DataProtectionKeys.Where(k => k.Xml != null && !k.Xml.Contains("encryptedSecret")).ToListAsync(ct))
        {
            var xml = XElement.Parse(row.Xml!);
            var secrets = xml.Descendants().Where(e => (bool?)e.Attribute(RequiresEncryption) == true).ToList();
            if (secrets.Count == 0) continue;
            foreach (var secret in secrets)
            {
                var info = encryptor.Encrypt(secret);
                // The shape Data Protection itself writes for an encrypted secret, so that it finds the decryptor.
                secret.ReplaceWith(new XElement(DataProtectionNs + "encryptedSecret",
                    new XAttribute("decryptorType", info.DecryptorType.AssemblyQualifiedName!), info.EncryptedElement));
            }
            row.Xml = xml.ToString(SaveOptions.DisableFormatting);
            changed++;
        }
        await db.SaveChangesAsync(ct);
        return changed;
    }

    private static readonly XNamespace DataProtectionNs = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName RequiresEncryption = DataProtectionNs + "requiresEncryption";

    private sealed class ProtectClearKeys(IServiceProvider services, ILogger<ProtectClearKeys> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken ct)
        {
            if (services.GetRequiredService<DatabaseConnections>().Secrets is "") return; // the database is not prepared
            await using var scope = services.CreateAsyncScope();
            var changed = await ProtectClearKeysAsync(scope.ServiceProvider.GetRequiredService<SecretsDb>(), services.GetRequiredService<KeyEncryptionKeys>(), ct);
            if (changed > 0) logger.LogInformation("Encrypted {Count} Data Protection keys that were stored in the clear", changed);
        }

        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    }
}

/// <summary>The current key-encryption key, and earlier ones still accepted for reading, each known by a short id (a hash
/// prefix, which reveals nothing of the key) written beside what it encrypted.</summary>
public sealed class KeyEncryptionKeys
{
    private readonly Dictionary<string, byte[]> _byId;

    public KeyEncryptionKeys(byte[] current, IEnumerable<byte[]> previous)
    {
        Current = current;
        CurrentId = IdOf(current);
        _byId = previous.Append(current).ToDictionary(IdOf);
    }

    public byte[] Current { get; }
    public string CurrentId { get; }

    public byte[]? Find(string id) => _byId.GetValueOrDefault(id);

    private static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key))[..16];

    public const string ConfigKey = "DataProtection:KeyEncryptionKey";

    public static KeyEncryptionKeys From(IConfiguration config, IHostEnvironment env)
    {
        var configured = config[ConfigKey];
        byte[] current;
        if (!string.IsNullOrWhiteSpace(configured)) current = Parse(configured, "DataProtection__KeyEncryptionKey");
        else if (Features.Demo.DemoSetup.IsEnabled(config, env)) current = DemoKey(env);
        else throw new InvalidOperationException("DataProtection__KeyEncryptionKey is required (32 random bytes in base64, "
            + "e.g. from `openssl rand -base64 32`): it encrypts the key ring that protects the stores' tokens");
        var previous = (config["DataProtection:PreviousKeyEncryptionKeys"] ?? "")
            .Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries)
            .Select(k => Parse(k, "DataProtection__PreviousKeyEncryptionKeys"));
        return new KeyEncryptionKeys(current, previous);
    }

    private static byte[] Parse(string base64, string name)
    {
        byte[] key;
        try { key = Convert.FromBase64String(base64.Trim()); }
        catch (FormatException) { throw new InvalidOperationException($"{name} must be base64"); }
        return key.Length == 32 ? key : throw new InvalidOperationException($"{name} must hold exactly 32 bytes (256 bits)");
    }

    /// <summary>Demo mode's own KEK, beside its private database under .data/, readable by this user only.</summary>
    private static byte[] DemoKey(IHostEnvironment env)
    {
        var path = Path.GetFullPath(Path.Combine(env.ContentRootPath, "..", ".data", "key-encryption-key"));
        if (File.Exists(path)) return Parse(File.ReadAllText(path), path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = RandomNumberGenerator.GetBytes(32);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new StreamWriter(path, Encoding.ASCII, options)) file.Write(Convert.ToBase64String(key));
        return key;
    }
}

/// <summary>AES-256-GCM under the KEK. The id of the KEK used is kept in the clear, so that a rotation knows which to
/// use; the tag makes a wrong KEK or an altered key fail loudly instead of yielding garbage.</summary>
public sealed class KekXmlEncryptor(KeyEncryptionKeys keys) : IXmlEncryptor
{
    internal static readonly byte[] Purpose = Encoding.UTF8.GetBytes("Xeno Data Protection key ring");

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var sealedBytes = new byte[nonce.Length + plaintext.Length + AesGcm.TagByteSizes.MaxSize];
        nonce.CopyTo(sealedBytes, 0);
        using (var aes = new AesGcm(keys.Current, AesGcm.TagByteSizes.MaxSize))
            aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(nonce.Length, plaintext.Length), sealedBytes.AsSpan(nonce.Length + plaintext.Length), Purpose);
        CryptographicOperations.ZeroMemory(plaintext);
        var element = new XElement("encryptedKey",
            new XComment(" This key is encrypted with AES-256-GCM under Xeno's key-encryption key. "),
            new XElement("kek", keys.CurrentId),
            new XElement("value", Convert.ToBase64String(sealedBytes)));
        return new EncryptedXmlInfo(element, typeof(KekXmlDecryptor));
    }
}

/// <summary>Made by Data Protection through its <see cref="IServiceProvider"/> constructor, by the type name stored
/// beside each encrypted key.</summary>
public sealed class KekXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var keys = services.GetRequiredService<KeyEncryptionKeys>();
        var id = (string?)encryptedElement.Element("kek") ?? "";
        var kek = keys.Find(id) ?? throw new CryptographicException(
            $"A Data Protection key is encrypted under a key-encryption key ({id}) that is neither DataProtection__KeyEncryptionKey "
            + "nor listed in DataProtection__PreviousKeyEncryptionKeys.");
        var sealedBytes = Convert.FromBase64String((string?)encryptedElement.Element("value") ?? "");
        var nonceSize = AesGcm.NonceByteSizes.MaxSize;
        var tagSize = AesGcm.TagByteSizes.MaxSize;
        var plaintext = new byte[sealedBytes.Length - nonceSize - tagSize];
        using (var aes = new AesGcm(kek, tagSize))
            aes.Decrypt(sealedBytes.AsSpan(0, nonceSize), sealedBytes.AsSpan(nonceSize, plaintext.Length),
                sealedBytes.AsSpan(nonceSize + plaintext.Length), plaintext, KekXmlEncryptor.Purpose);
        try { return XElement.Parse(Encoding.UTF8.GetString(plaintext)); }
        finally { CryptographicOperations.ZeroMemory(plaintext); }
    }
}
