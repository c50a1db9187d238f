using System.Text.Json;
using Delta.Host.Tests.Support;

namespace Delta.Host.Tests.Cli;

/// <summary>The real host process: output, --json, plugin verbs, and exit codes (0 ok, 1 failure, 2 bad input).</summary>
public sealed class CliTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("delta-cli-").FullName;
    private readonly string plugins;

    public CliTests()
    {
        plugins = TestPaths.PluginsFolder(temp, TestPaths.AllTestPlugins);
        Directory.CreateDirectory(Path.Combine(temp, "data", "set"));
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private HostRun Host(params string[] args) => HostProcess.Run(temp, plugins, args);

    [Fact]
    public void Plugins_json_lists_the_good_one_and_each_failure_with_path_and_reason()
    {
        var run = Host("plugins", "--json");
        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Stdout);
        var ids = doc.RootElement.GetProperty("plugins").EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToList();
        Assert.Equal(["echo"], ids);
        var errors = doc.RootElement.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal(5, errors.Count);
        Assert.All(errors, e => Assert.StartsWith(plugins, e.GetProperty("path").GetString()));
        Assert.All(errors, e => Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("reason").GetString())));
    }

    [Fact]
    public void Command_line_configuration_overrides_the_environment()
    {
        var empty = Directory.CreateDirectory(Path.Combine(temp, "empty-plugins")).FullName;
        var fromEnv = HostProcess.Run(temp, empty, "plugins", "--json");
        Assert.DoesNotContain("\"echo\"", fromEnv.Stdout);
        var fromArgs = HostProcess.Run(temp, empty, "plugins", "--json", $"--Delta:PluginsPath={plugins}");
        Assert.Equal(0, fromArgs.ExitCode);
        Assert.Contains("\"echo\"", fromArgs.Stdout);
    }

    [Fact]
    public void Plugin_verb_named_demo_dispatches_with_its_arguments_and_exit_code()
    {
        var ok = Host("demo", "a", "b", "--device", "cpu");
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("echo-demo device=CPU args=a|b", ok.Stdout);
        Assert.Equal(1, Host("demo", "--fail").ExitCode);
        // Options the host does not know reach the plugin in the order typed, values after their names.
        var ordered = Host("demo", "--epochs", "3", "a", "--device", "cpu", "--lr=0.1", "b");
        Assert.Equal(0, ordered.ExitCode);
        Assert.Contains("echo-demo device=CPU args=--epochs|3|a|--lr=0.1|b", ordered.Stdout);
    }

    [Fact]
    public void Help_works_for_every_verb()
    {
        foreach (var verb in new[] { "plugins", "backbones", "train", "eval", "predict", "patches", "demo" })
        {
            var run = Host(verb, "--help");
            Assert.True(run.ExitCode == 0, $"{verb} --help: {run.ExitCode} {run.Stderr}");
            Assert.Contains(verb, run.Stdout);
        }
        var root = Host("--help");
        Assert.Equal(0, root.ExitCode);
        Assert.Contains("demo", root.Stdout);
    }

    [Fact]
    public void Bad_input_exits_2_and_names_the_problem()
    {
        var missing = Host("train", Path.Combine(temp, "absent.json"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("Job file not found", missing.Stderr);

        var job = Path.Combine(temp, "job.json");
        File.WriteAllText(job, """{ "name": "j", "plugin": "echo", "backbone": "tiny_resnet", "dataset": "set", "hyper": { "learningRate": -1 } }""");
        var bad = Host("train", job);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("hyper.learningRate must be a positive finite number", bad.Stderr);

        Assert.Equal(2, Host("no-such-verb").ExitCode);

        File.WriteAllText(job, """{ "name": "j", "plugin": "echo", "backbone": "tiny_resnet", "weights": "random", "dataset": "set" }""");
        var cuda = Host("train", job, "--device", "cuda");
        Assert.Equal(2, cuda.ExitCode);   // this machine and build have no CUDA: refused before any plugin code runs
        Assert.Contains("CUDA", cuda.Stderr);
    }

    [Fact]
    public void A_failing_plugin_call_exits_1()
    {
        var job = Path.Combine(temp, "job.json");
        File.WriteAllText(job, """{ "name": "j", "plugin": "echo", "backbone": "tiny_resnet", "weights": "random", "dataset": "set" }""");
        var run = Host("train", job);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("echo does not train", run.Stderr);
    }
}
