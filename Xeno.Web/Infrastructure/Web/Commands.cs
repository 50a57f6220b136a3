namespace Xeno.Web.Infrastructure.Web;

/// <summary>
/// Xeno's own commands, run by the same binary with the same configuration instead of serving:
/// <c>migrate</c> (prepares the database, then exits: a release step for deployments whose serving processes lack the
/// owner's credentials) and <c>operator grant|revoke EMAIL</c>. The command comes first; without one, Xeno serves.
/// </summary>
public static class Commands
{
    /// <returns>The exit code of the command run, or null when the arguments name none.</returns>
    public static async Task<int?> RunAsync(WebApplication app, string[] args)
    {
        int? code = args.FirstOrDefault() switch
        {
            "migrate" => 0, // PrepareDatabaseAsync, run before this, has done it all
            "operator" => await Features.Operators.GrantOperator.RunAsync(app.Services, args[1..], Console.Out),
            _ => null,
        };
        if (code is not null) await app.DisposeAsync(); // stops a private PostgreSQL, if this process started one
        return code;
    }
}
