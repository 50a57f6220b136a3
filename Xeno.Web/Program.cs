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

var app = builder.Build();
await app.PrepareDatabaseAsync();
app.UseXenoWeb();
ScheduleIncrementalSyncs.Register(app);
app.Run();

public partial class Program;
