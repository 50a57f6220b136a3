using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Xeno.Web.Features.Auth;
using Xeno.Web.Infrastructure.Database;

namespace Xeno.Web.Features.Operators;

/// <summary>
/// <c>dotnet Xeno.Web.dll operator grant|revoke EMAIL</c>. Operators are made only here, by whoever can run Xeno's own
/// command with its database credentials, never by signing up: an address cannot be claimed by registering it first.
/// Granting gives the account a new password, printed here once, and ends every session it had, so that whoever held
/// the account before (even a stranger who registered the address) is out and only the person at this terminal is in.
/// </summary>
public static class GrantOperator
{
    public static async Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> args, TextWriter output)
    {
        if (args.Count != 2 || args[0] is not ("grant" or "revoke") || !Accounts.IsValidEmail(Accounts.NormalizeEmail(args[1])))
        {
            output.WriteLine("Usage: operator grant EMAIL   (makes EMAIL an operator with a new password, printed once)");
            output.WriteLine("       operator revoke EMAIL  (takes the job dashboard away from EMAIL)");
            return 2;
        }
        var email = Accounts.NormalizeEmail(args[1]);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SecretsDb>();

        if (args[0] == "revoke")
        {
            var revoked = await db.Users.Where(u => u.Email == email && u.IsOperator)
                .ExecuteUpdateAsync(s => s.SetProperty(u => u.IsOperator, false));
            output.WriteLine(revoked == 1 ? $"{email} is no longer an operator." : $"{email} was not an operator.");
            return 0;
        }

        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
        var existed = await db.Users.AnyAsync(u => u.Email == email);
        var user = await Accounts.SetPasswordAsync(db, scope.ServiceProvider.GetRequiredService<TimeProvider>(), email, password);
        await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsOperator, true));
        output.WriteLine(existed
            ? $"{email} is an operator. Its password was replaced and its other sessions ended."
            : $"{email} is an operator (a new account).");
        output.WriteLine($"Sign in at /login with this password, then change it at /account: {password}");
        return 0;
    }
}
