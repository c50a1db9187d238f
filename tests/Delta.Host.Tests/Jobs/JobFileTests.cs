using Delta.Backbones.Registry;
using Delta.Host.Cli;
using Delta.Host.Jobs;
using Delta.Host.Plugins;
using Delta.Host.Tests.Support;

namespace Delta.Host.Tests.Jobs;

/// <summary>Every validation rule of a job file, each checked to name the offending key.</summary>
public sealed class JobFileTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("delta-jobs-").FullName;
    private readonly string dataRoot;
    private readonly PluginCatalog catalog;
    private readonly BackboneRegistry registry = BackboneRegistry.CreateDefault();

    public JobFileTests()
    {
        dataRoot = Directory.CreateDirectory(Path.Combine(temp, "data")).FullName;
        Directory.CreateDirectory(Path.Combine(dataRoot, "set"));
        Directory.CreateDirectory(Path.Combine(temp, "outside"));
        catalog = PluginCatalog.Load(TestPaths.PluginsFolder(temp, "EchoPlugin"), CliApp.BuiltInVerbs);
    }

    public void Dispose() { registry.Dispose(); Directory.Delete(temp, recursive: true); }

    private const string Valid = """
        { "name": "j1", "plugin": "echo", "backbone": "tiny_resnet", "weights": "random", "dataset": "set",
          "delta": { "stages": 1 }, "hyper": { "epochs": 1, "learningRate": 0.01 }, "seed": 1, "options": { "repeat": 2 } }
        """;

    private ValidatedJob Load(string json)
    {
        var path = Path.Combine(temp, "job.json");
        File.WriteAllText(path, json);
        return JobFile.Load(path, catalog, registry, dataRoot);
    }

    private string Error(string json) => Assert.Throws<BadInputException>(() => Load(json)).Message;

    private static string With(string replace, string by) => Valid.Replace(replace, by, StringComparison.Ordinal);

    [Fact]
    public void Valid_job_binds_spec_and_plugin_options()
    {
        var job = Load(Valid);
        Assert.Equal("echo", job.Plugin.Info.Id);
        Assert.Equal(Path.Combine(dataRoot, "set"), job.DatasetPath);
        Assert.Equal(0.01, job.Spec.Hyper.LearningRate);
        Assert.Equal(2, (int)job.Options.GetType().GetProperty("Repeat")!.GetValue(job.Options)!);
    }

    [Fact] public void Unknown_plugin_lists_valid() => Assert.Contains("Unknown plugin 'nope'. Loaded: echo", Error(With("\"echo\"", "\"nope\"")));
    [Fact] public void Unknown_backbone_lists_valid() => Assert.Matches("backbone: unknown architecture 'resnet9000'. Valid: .*tiny_resnet", Error(With("tiny_resnet", "resnet9000")));
    [Fact] public void Architecture_the_plugin_does_not_support() => Assert.Contains("backbone: plugin 'echo' supports tiny_resnet, not 'resnet18'", Error(With("tiny_resnet", "resnet18")));
    [Fact] public void Delta_stages_the_plugin_does_not_support() => Assert.Contains("delta.stages: plugin 'echo' supports 1, not 2", Error(With("\"stages\": 1", "\"stages\": 2")));
    [Fact] public void Bad_delta_config() => Assert.Contains("delta.stages must be 0..4", Error(With("\"stages\": 1", "\"stages\": 7")));
    [Fact] public void Missing_dataset() => Assert.Contains("dataset: 'nothere' does not exist", Error(With("\"set\"", "\"nothere\"")));
    [Fact] public void Dataset_escaping_with_dotdot() => Assert.Contains("outside the data root", Error(With("\"set\"", "\"../outside\"")));
    [Fact] public void Dataset_absolute_elsewhere() => Assert.Contains("outside the data root", Error(With("\"set\"", $"\"{Path.Combine(temp, "outside")}\"")));

    [Fact]
    public void Dataset_symlink_pointing_out()
    {
        Directory.CreateSymbolicLink(Path.Combine(dataRoot, "sneaky"), Path.Combine(temp, "outside"));
        Assert.Contains("dataset: 'sneaky' resolves to", Error(With("\"set\"", "\"sneaky\"")));
    }

    [Fact] public void NaN_learning_rate() => Assert.Contains("hyper.learningRate must be a positive finite number (got NaN)", Error(With("0.01", "\"NaN\"")));
    [Fact] public void Negative_learning_rate() => Assert.Contains("hyper.learningRate must be a positive finite number (got -1)", Error(With("0.01", "-1")));
    [Fact] public void Negative_epochs() => Assert.Contains("hyper.epochs must be ≥ 1 (got -3)", Error(With("\"epochs\": 1", "\"epochs\": -3")));
    [Fact] public void Unknown_top_level_key() => Assert.Contains("unknown key 'colour'", Error(With("\"seed\": 1", "\"seed\": 1, \"colour\": \"red\"")));
    [Fact] public void Unknown_hyper_key() => Assert.Contains("unknown key 'hyper.lr'", Error(With("\"epochs\": 1", "\"epochs\": 1, \"lr\": 3")));
    [Fact] public void Unknown_option_key() => Assert.Contains("unknown key", Error(With("\"repeat\": 2", "\"repeat\": 2, \"volume\": 11")));
    [Fact] public void Plugin_options_validation() => Assert.Contains("options.repeat must be ≥ 1 (got 0)", Error(With("\"repeat\": 2", "\"repeat\": 0")));
    [Fact] public void Wrong_value_type_names_the_key() => Assert.Contains("hyper.epochs", Error(With("\"epochs\": 1", "\"epochs\": \"many\"")));
    [Fact] public void Cuda_without_cuda_is_bad_input() => Assert.Contains("CUDA", Error(With("\"seed\": 1", "\"seed\": 1, \"device\": \"cuda\"")));
    [Fact] public void Bad_device_name() => Assert.Contains("is not a device", Error(With("\"seed\": 1", "\"seed\": 1, \"device\": \"tpu\"")));
    [Fact] public void Not_json() => Assert.Contains("not valid JSON", Error("{ nope"));
    [Fact] public void Unknown_frozen_base_mode_lists_valid() =>
        Assert.Contains("frozenBase: unknown mode 'turbo'. Valid: exact, fused, fast, fast-delta-bf16, fast-autocast", Error(With("\"seed\": 1", "\"seed\": 1, \"frozenBase\": \"turbo\"")));

    [Fact]
    public void Frozen_base_mode_defaults_to_exact_and_binds_each_name()
    {
        Assert.Equal(Delta.Host.Training.FrozenBaseMode.Exact, Load(Valid).FrozenBase);
        foreach (var (name, mode) in new[] { ("fused", Delta.Host.Training.FrozenBaseMode.Fused), ("fast", Delta.Host.Training.FrozenBaseMode.Fast),
                     ("fast-delta-bf16", Delta.Host.Training.FrozenBaseMode.FastDeltaBf16), ("Fast-Autocast", Delta.Host.Training.FrozenBaseMode.FastAutocast) })
            Assert.Equal(mode, Load(With("\"seed\": 1", $"\"seed\": 1, \"frozenBase\": \"{name}\"")).FrozenBase);
    }

    /// <summary>JSON null is a value System.Text.Json hands to any reference-typed key: each is refused by name (before, the
    /// checks that used them threw NullReferenceException, exit code 1 instead of 2).</summary>
    [Theory]
    [InlineData("\"name\": \"j1\"", "\"name\": null", "name")]
    [InlineData("\"plugin\": \"echo\"", "\"plugin\": null", "plugin")]
    [InlineData("\"backbone\": \"tiny_resnet\"", "\"backbone\": null", "backbone")]
    [InlineData("\"weights\": \"random\"", "\"weights\": null", "weights")]
    [InlineData("\"dataset\": \"set\"", "\"dataset\": null", "dataset")]
    [InlineData("\"delta\": { \"stages\": 1 }", "\"delta\": null", "delta")]
    [InlineData("\"hyper\": { \"epochs\": 1, \"learningRate\": 0.01 }", "\"hyper\": null", "hyper")]
    [InlineData("\"seed\": 1", "\"seed\": 1, \"device\": null", "device")]
    [InlineData("\"seed\": 1", "\"seed\": 1, \"frozenBase\": null", "frozenBase")]
    public void Null_value_is_bad_input_naming_the_key(string replace, string by, string key) =>
        Assert.Contains($"{key}: must not be null", Error(With(replace, by)));

    [Fact]
    public void Options_file_holding_null_is_bad_input()
    {
        var file = Path.Combine(temp, "options.json");
        File.WriteAllText(file, "null");
        Assert.Contains("an options file is a JSON object", Assert.Throws<BadInputException>(() => PluginOptions.Load(catalog.Get("echo"), file)).Message);
    }

    [Fact]
    public void Missing_job_file_is_bad_input() =>
        Assert.Contains("Job file not found", Assert.Throws<BadInputException>(() => JobFile.Load(Path.Combine(temp, "absent.json"), catalog, registry, dataRoot)).Message);

    [Fact]
    public void All_problems_are_reported_together()
    {
        var message = Error(With("\"epochs\": 1", "\"epochs\": 0").Replace("\"set\"", "\"nothere\"", StringComparison.Ordinal));
        Assert.Contains("hyper.epochs", message);
        Assert.Contains("dataset:", message);
    }
}
