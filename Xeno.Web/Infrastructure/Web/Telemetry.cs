using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Xeno.Web.Infrastructure.Jobs;

namespace Xeno.Web.Infrastructure.Web;

/// <summary>
/// OpenTelemetry traces, metrics and logs of requests (ASP.NET Core), calls to Shopify (HttpClient), SQL (Npgsql) and
/// Hangfire jobs (<see cref="JobTelemetry"/>), exported over OTLP where <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> names a
/// collector (the standard <c>OTEL_*</c> variables tune the rest). Without one nothing is collected. Query strings
/// are redacted by the instrumentation (an install's callback carries a code), and Npgsql records statements, never
/// their parameters.
/// </summary>
public static class Telemetry
{
    public static WebApplicationBuilder AddXenoTelemetry(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])) return builder;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("xeno", serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}")
                .AddAttributes([new("xeno.role", XenoRoles.Role(builder.Configuration))]))
            .WithTracing(t => t
                // Probes every few seconds would drown the traces that matter.
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/healthz") && !http.Request.Path.StartsWithSegments("/readyz"))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddSource(JobTelemetry.SourceName))
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("Npgsql")
                .AddMeter(JobTelemetry.SourceName))
            .WithLogging()
            .UseOtlpExporter();
        return builder;
    }
}
