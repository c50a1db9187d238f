using Delta.Host.Service;
using Delta.Service.Jobs;
using Delta.Service.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Delta.Service.Tests.Host;

/// <summary>The client behind `delta jobs …` against a real running service.</summary>
public sealed class JobsClientTests : IDisposable
{
    private readonly TempDir dir = new();

    [Fact]
    public async Task Submit_list_show_cancel_logs_round_trip_and_errors_are_classified()
    {
        var options = InProcessService.FastOptions(dir.Path);
        options.Token = "tok";
        await using var svc = await InProcessService.StartAsync(options);
        using var client = new JobsClient(svc.Http.BaseAddress!, "tok");
        var job = JobsClient.Parse<JobRecord>(await client.SubmitAsync(ApiCalls.Job("cli", steps: 100_000, delayMs: 10), default));
        Assert.Equal("cli", job.Name);
        Assert.Equal(job.Id, Assert.Single(JobsClient.Parse<List<JobRecord>>(await client.ListAsync(default))).Id);
        var taken = await Assert.ThrowsAsync<JobsApiException>(() => client.SubmitAsync(ApiCalls.Job("cli"), default));
        Assert.True(taken.BadInput);
        Assert.StartsWith($"job rejected:{Environment.NewLine}name: job {job.Id} (", taken.Message);
        var cancelled = JobsClient.Parse<JobRecord>(await client.CancelAsync(job.Id, default));
        Assert.True(cancelled.State is JobState.Cancelled || cancelled.CancelRequested);
        Assert.NotNull(JobsClient.Parse<List<LogLine>>(await client.LogsAsync(job.Id, 0, default)));

        var bad = await Assert.ThrowsAsync<JobsApiException>(() => client.SubmitAsync("""{"name":"x","steps":0}""", default));
        Assert.True(bad.BadInput);
        Assert.Contains("steps: must be > 0", bad.Message);
        var missing = await Assert.ThrowsAsync<JobsApiException>(() => client.ShowAsync("nope", default));
        Assert.True(missing.BadInput);
        using var noToken = new JobsClient(svc.Http.BaseAddress!, null);
        var denied = await Assert.ThrowsAsync<JobsApiException>(() => noToken.ListAsync(default));
        Assert.False(denied.BadInput);
        Assert.Contains("401", denied.Message);
    }

    [Theory]
    [InlineData(null, null, "http://127.0.0.1:5077/")]
    [InlineData("http://0.0.0.0:6000", null, "http://127.0.0.1:6000/")]
    [InlineData("http://*:6000;http://127.0.0.1:7000", null, "http://127.0.0.1:6000/")]
    [InlineData("http://0.0.0.0:6000", "http://gpu-box:6000", "http://gpu-box:6000/")]
    public void Client_url_comes_from_Url_or_the_first_listen_address(string? urls, string? url, string expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:Urls"] = urls, ["Service:Url"] = url, ["Service:Token"] = "t",
        }).Build();
        var (baseUrl, token) = ServiceConfiguration.Client(config);
        Assert.Equal(expected, baseUrl.ToString());
        Assert.Equal("t", token);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        dir.Dispose();
    }
}
