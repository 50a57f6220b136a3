using System.Security.Cryptography;
using System.Text;

namespace Xeno.Web.Infrastructure.Auth;

/// <summary>PBKDF2-HMAC-SHA512 at OWASP's 210,000 iterations, with the parameters stored beside the
/// hash so that a later raise of the count still verifies old hashes.</summary>
public static class PasswordHasher
{
    public const int MinLength = 8;
    public const int MaxLength = 128;
    private const int Iterations = 210_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 64;

    // Verified against when the email is unknown, so that a wrong email costs as much time as a wrong password.
    private static readonly Lazy<string> DummyHash = new(() => Hash("not-a-real-password-" + Guid.NewGuid()));

    public static string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA512, HashBytes);
        return $"pbkdf2-sha512${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static bool Verify(string password, string? stored)
    {
        var parts = (stored ?? DummyHash.Value).Split('$');
        if (parts is not ["pbkdf2-sha512", var iterationText, var saltText, var hashText] || !int.TryParse(iterationText, out var iterations))
            return false;
        var expected = Convert.FromBase64String(hashText);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(saltText), iterations, HashAlgorithmName.SHA512, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected) && stored is not null;
    }

    /// <summary>Length is the only rule (NIST 800-63B): no composition rules. Counted in Unicode scalars.</summary>
    public static bool IsAcceptable(string? password)
    {
        if (password is null) return false;
        var length = password.EnumerateRunes().Count();
        return length is >= MinLength and <= MaxLength;
    }
}
