using Delta.Service.Jobs;
using Delta.Service.Store;
using Delta.Service.TestHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Delta.Service.Tests.Support;

/// <summary>The whole service (Kestrel, API, worker) in the test process, on a free loopback port.</summary>
public sealed class InProcessService : IAsyncDisposable
{
    public WebApplication App { get; }
    public HttpClient Http { get; }
    public ServiceOptions Options { get; }

    private InProcessService(WebApplication app, ServiceOptions options)
    {
        App = app;
        Options = options;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
    }

    public static ServiceOptions FastOptions(string stateDir) => new()
    {
        StateDir = stateDir, Urls = "http://127.0.0.1:0", HostId = "test-host",
        LeaseSeconds = 3, HeartbeatSeconds = 0.2, PollSeconds = 0.1, ShutdownTimeoutSeconds = 30,
    };

    public static async Task<InProcessService> StartAsync(ServiceOptions options, IJobExecutor? executor = null, IJobStore? store = null, IJobValidator? validator = null)
    {
        var app = await DeltaService.BuildAsync(options, executor ?? new ToyRegressionExecutor(), validator ?? new ToyJobValidator(), store: store);
        await app.StartAsync();
        return new InProcessService(app, options);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
