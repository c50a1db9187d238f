using Delta.Service.Api;
using Delta.Service.Jobs;
using Delta.Service.Store;
using Delta.Service.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Delta.Service;

/// <summary>
/// Builds the service host: Kestrel with the API and status page, the job store, and the worker.
/// The host process (or a test) supplies the executor and the validator, so this library never
/// references the CLI host.
/// </summary>
public static class DeltaService
{
    public static async Task<WebApplication> BuildAsync(ServiceOptions options, IJobExecutor executor, IJobValidator validator,
        Action<ILoggingBuilder>? logging = null, IJobStore? store = null, CancellationToken ct = default)
    {
        if (options.Validate() is { Count: > 0 } problems) throw new InvalidOperationException(string.Join(Environment.NewLine, problems));
        BindingPolicy.Check(options);
        options.StateDir = Path.GetFullPath(options.StateDir);
        Directory.CreateDirectory(options.StateDir);
        // Before anything touches the queue: a second live host with this id would requeue the first one's jobs at its start.
        var hostLock = HostIdLock.Acquire(options.StateDir, options.HostId);
        try { return await BuildLockedAsync(options, executor, validator, logging, store, hostLock, ct); }
        catch { hostLock.Dispose(); throw; }
    }

    private static async Task<WebApplication> BuildLockedAsync(ServiceOptions options, IJobExecutor executor, IJobValidator validator,
        Action<ILoggingBuilder>? logging, IJobStore? store, HostIdLock hostLock, CancellationToken ct)
    {
        store ??= CreateStore(options);
        await store.InitializeAsync(ct);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.WebHost.UseUrls(options.Urls);
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        builder.Services.ConfigureHttpJsonOptions(o => ServiceJson.Configure(o.SerializerOptions));
        builder.Services.Configure<HostOptions>(o =>
        {
            // Long enough for the running job to write its checkpoint after the stopping token fires.
            o.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds);
            // The worker guards its own loop; should anything still escape, keep serving the API.
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore;
        });
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(executor);
        builder.Services.AddSingleton(validator);
        builder.Services.AddHostedService<JobWorkerService>();
        // Made by a factory, so the container owns it: released when the app is disposed, after its worker has stopped.
        builder.Services.AddSingleton(_ => hostLock);

        var app = builder.Build();
        app.Services.GetRequiredService<HostIdLock>();
        if (!string.IsNullOrEmpty(options.Token)) app.UseMiddleware<BearerTokenMiddleware>(options.Token);
        JobsApi.Map(app, options);
        return app;
    }

    public static IJobStore CreateStore(ServiceOptions o) => o.Store switch
    {
        "postgres" => new PostgresJobStore(o.ConnectionString!),
        _ => new SqliteJobStore(Path.Combine(Path.GetFullPath(o.StateDir), "jobs.db")),
    };
}
