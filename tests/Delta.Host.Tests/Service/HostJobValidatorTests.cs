using Delta.Host.Cli;
using Delta.Host.Service;
using Delta.Host.Tests.Support;
using Delta.Service.Jobs;
using Delta.Service.Store;
using Microsoft.Extensions.Configuration;

namespace Delta.Host.Tests.Service;

/// <summary>Jobs are queued under the canonical device name the workers claim by: a job written "CPU" runs on "cpu".</summary>
public sealed class HostJobValidatorTests : IDisposable
{
    private readonly TempCliEnvironment host = new("EchoPlugin");
    private CliEnvironment Env => host.Env;

    public void Dispose() => host.Dispose();

    private static string Job(string device) => $$"""
        { "name": "j1", "plugin": "echo", "backbone": "tiny_resnet", "weights": "random", "dataset": "set",
          "delta": { "stages": 1 }, "hyper": { "epochs": 1 }, "device": "{{device}}" }
        """;

    [Theory]
    [InlineData("CPU")]
    [InlineData(" cpu")]
    [InlineData("Cpu ")]
    public async Task A_device_spelled_otherwise_is_queued_as_cpu_and_claimed_by_the_cpu_worker(string written)
    {
        var submission = new HostJobValidator(Env).Validate(Job(written), null);
        Assert.Equal("cpu", submission.Device);

        var store = new SqliteJobStore(Path.Combine(host.Root, "jobs.db"));
        await store.InitializeAsync();
        var (job, _) = await store.SubmitAsync(submission);
        var claimed = await store.ClaimNextAsync("cpu", "host", TimeSpan.FromSeconds(10));
        Assert.Equal(job.Id, claimed?.Id);
    }

    /// <summary>Over HTTP a validation crash was a 500: a null key (NullReferenceException) or a path that is none
    /// (a NUL byte: Path.GetFullPath's ArgumentException, the CLI's exit 1) is a problem with the job, answered like
    /// every other — and named as such by the validation itself now, on the CLI too (exit 2).</summary>
    [Theory]
    [InlineData("\"hyper\": { \"epochs\": 1 }", "\"hyper\": null", "job: hyper: must not be null")]
    [InlineData("\"dataset\": \"set\"", "\"dataset\": \"se\\u0000t\"", "job: dataset: 'se\\0t' is not a path (it holds a NUL character)")]
    public void A_job_that_crashes_a_check_is_a_validation_problem(string replace, string by, string expected)
    {
        var e = Assert.Throws<JobValidationException>(() => new HostJobValidator(Env).Validate(Job("cpu").Replace(replace, by, StringComparison.Ordinal), null));
        Assert.StartsWith(expected, Assert.Single(e.Problems));
    }

    /// <summary>A job whose patch name is taken is refused when it is submitted, not after it has trained.</summary>
    [Fact]
    public void A_job_whose_patch_name_is_taken_is_refused_at_submission()
    {
        Directory.CreateDirectory(Env.Patches.Root);
        File.WriteAllText(Path.Combine(Env.Patches.Root, "j1.dpatch"), "an earlier patch");
        var e = Assert.Throws<JobValidationException>(() => new HostJobValidator(Env).Validate(Job("cpu"), null));
        Assert.Contains("name: a patch 'j1' already exists", Assert.Single(e.Problems));
        Assert.Equal("an earlier patch", File.ReadAllText(Path.Combine(Env.Patches.Root, "j1.dpatch")));
    }

    /// <summary>Also: the configured list replaces the default ["cpu"] (binding alone appended to it).</summary>
    [Fact]
    public void Service_devices_are_made_canonical_too()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:Devices:0"] = "CPU",
            ["Service:Devices:1"] = " cpu ",
        }).Build();
        Assert.Equal(["cpu"], ServiceConfiguration.Options(Env, configuration).Devices);                // one worker per device
    }

    [Fact]
    public void A_service_device_that_is_not_one_stops_the_start_naming_the_key()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Service:Devices:0"] = "tpu" }).Build();
        Assert.Contains("Service:Devices: 'tpu' is not a device", Assert.Throws<BadInputException>(() => ServiceConfiguration.Options(Env, configuration)).Message);
    }
}
