namespace Xeno.Web.Features.Demo;

/// <summary>The demo account's login, shown on /login while demo mode runs; empty otherwise.</summary>
public sealed class DemoCredentials
{
    public string? Email { get; set; }
    public string? Password { get; set; }
}
