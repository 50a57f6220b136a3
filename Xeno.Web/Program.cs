using Xeno.Web.Features.Demo;
using Xeno.Web.Features.Sync;
using Xeno.Web.Features.Webhooks;
using Xeno.Web.Infrastructure.Auth;
using Xeno.Web.Infrastructure.Database;
using Xeno.Web.Infrastructure.Jobs;
using Xeno.Web.Infrastructure.Shopify;
using Xeno.Web.Infrastructure.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddXenoDatabase();
builder.AddXenoAuth();
builder.AddXenoShopify();
builder.AddXenoJobs();
builder.AddXenoWebhooks();
builder.AddXenoWeb();
builder.AddXenoDemo();
builder.AddXenoTelemetry();
builder.CheckXenoConfiguration();

var app = builder.Build();
await app.PrepareDatabaseAsync();
if (await Commands.RunAsync(app, args) is { } exitCode) return exitCode;
app.UseXenoWeb();
ScheduleIncrementalSyncs.Register(app);
app.Run();
return 0;

public partial class Program;
