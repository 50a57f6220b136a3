using Xeno.Web.Infrastructure.Jobs;

namespace Xeno.Web.Features.Webhooks;

/// <summary>Settings of the webhook inbox (section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    /// <summary>Worker loops per worker process; each applies one store's batch at a time.</summary>
    public int Workers { get; set; } = 2;

    /// <summary>Deliveries a worker claims and applies in one transaction. Each one's savepoint is a subtransaction, and
    /// PostgreSQL tracks only 64 of them per transaction in shared memory before every other session's snapshots slow
    /// down: keep this below that.</summary>
    public int BatchSize { get; set; } = 50;

    /// <summary>Deliveries a worker first tries to apply as one, without savepoints (<see cref="InboxWorker"/>): a backlog
    /// then pays each batch's fixed costs (the refresh of the day's aggregates, above all) once per this many. Set to
    /// <see cref="BatchSize"/> or less to apply fifty at a time, each in its savepoint, always.</summary>
    public int LargeBatchSize { get; set; } = 500;

    /// <summary>How often an idle worker looks for work without being woken by a notification.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most deliveries intake writes in one transaction.</summary>
    public int IntakeBatchSize { get; set; } = 256;

    /// <summary>How long intake waits for more deliveries to join a transaction that is not full.</summary>
    public TimeSpan IntakeDelay { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Intake transactions in flight at once per web process.</summary>
    public int IntakeWriters { get; set; } = 2;
}

public static class WebhooksSetup
{
    /// <summary>The channel PostgreSQL notifies when a store has new webhook work.</summary>
    public const string Channel = "xeno_webhooks";

    /// <summary>First key of the per-store advisory locks of the inbox (two-key form, apart from every one-key lock).</summary>
    public const int AdvisoryLockSpace = 0x5748_4B00;

    public static WebApplicationBuilder AddXenoWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<WebhookOptions>(builder.Configuration.GetSection("Webhooks"));
        if (XenoRoles.ServesWeb(builder.Configuration))
        {
            builder.Services.AddSingleton<WebhookShops>();
            builder.Services.AddSingleton<WebhookInbox>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<WebhookInbox>());
        }
        if (XenoRoles.RunsWorkers(builder.Configuration)) builder.Services.AddHostedService<InboxWorker>();
        return builder;
    }
}
