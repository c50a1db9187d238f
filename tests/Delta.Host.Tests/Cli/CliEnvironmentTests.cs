using Delta.Host.Tests.Support;

namespace Delta.Host.Tests.Cli;

public sealed class CliEnvironmentTests
{
    /// <summary>`delta serve` reads the registry from HTTP validation threads and device loops at once; a lazily set field
    /// built one registry per racing thread (each with its own frozen bases), and disposed only the last.</summary>
    [Fact]
    public async Task Threads_reading_the_registry_at_once_all_get_the_one_registry()
    {
        using var host = new TempCliEnvironment();
        const int threads = 8;
        using var start = new Barrier(threads);
        var registries = await Task.WhenAll(Enumerable.Range(0, threads).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(10));
            return host.Env.Registry;
        }, TaskCreationOptions.LongRunning)));
        Assert.Single(registries.Distinct(ReferenceEqualityComparer.Instance));
    }
}
