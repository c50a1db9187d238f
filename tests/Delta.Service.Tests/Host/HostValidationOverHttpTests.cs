using System.Net;
using Delta.Host.Cli;
using Delta.Host.Hosting;
using Delta.Host.Plugins;
using Delta.Host.Service;
using Delta.Service.Tests.Support;
using Delta.Service.TestHost;
using Microsoft.Extensions.Logging.Abstractions;

namespace Delta.Service.Tests.Host;

/// <summary>HTTP submissions go through the CLI's job validation (<see cref="HostJobValidator"/>): same keys (the frozen-base mode too), same confinement.</summary>
public sealed class HostValidationOverHttpTests : IDisposable
{
    private readonly TempDir dir = new();

    [Fact]
    public async Task Job_escaping_the_data_root_or_naming_an_unknown_plugin_is_rejected_with_400_and_not_queued()
    {
        var dataRoot = Directory.CreateDirectory(Path.Combine(dir.Path, "data")).FullName;
        var plugins = Directory.CreateDirectory(Path.Combine(dir.Path, "plugins")).FullName;
        Directory.CreateDirectory(Path.Combine(dir.Path, "outside"));
        var paths = new DeltaPaths(dataRoot, Path.Combine(dir.Path, "patches"), Path.Combine(dir.Path, "runs"), plugins);
        using var env = new CliEnvironment(paths, PluginCatalog.Load(plugins, CliApp.BuiltInVerbs), NullLoggerFactory.Instance);
        var options = InProcessService.FastOptions(Path.Combine(dir.Path, "state"));
        var app = await DeltaService.BuildAsync(options, new ToyRegressionExecutor(), new HostJobValidator(env));
        await app.StartAsync();
        try
        {
            var address = app.Urls.First();
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            var r = await ApiCalls.PostJob(http, """{"name":"esc","plugin":"nope","dataset":"../outside","frozenBase":"turbo"}""");
            var body = await r.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("plugin: Unknown plugin 'nope'", body);
            Assert.Contains("outside the data root", body);
            Assert.Contains("frozenBase: unknown mode 'turbo'", body);
            r = await ApiCalls.PostJob(http, """{"name":"k","plugin":"nope","dataset":".","typo":1}""");
            Assert.Contains("typo", await r.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Empty(await ApiCalls.List(http));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        dir.Dispose();
    }
}
