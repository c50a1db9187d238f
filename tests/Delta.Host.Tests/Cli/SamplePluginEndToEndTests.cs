using System.Text.Json;
using Delta.Data.Images;
using Delta.Host.Tests.Support;
using static TorchSharp.torch;

namespace Delta.Host.Tests.Cli;

/// <summary>
/// Adding a task type as a DLL: samples/RotationPlugin is built on its own (dotnet build, outside Delta.sln)
/// into a temp plugins folder, then the unchanged host lists it and trains it on generated images.
/// </summary>
public sealed class SamplePluginEndToEndTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("delta-e2e-").FullName;
    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact, Trait("Category", "Slow")]
    public void Sample_plugin_built_separately_is_listed_and_trained_by_the_unchanged_host()
    {
        var plugins = Path.Combine(temp, "plugins");
        var build = HostProcess.Exec("dotnet", [
            "build", Path.Combine(TestPaths.RepoRoot, "samples", "RotationPlugin", "RotationPlugin.csproj"),
            "-c", TestPaths.Configuration, "-nologo", "-v", "quiet", "-clp:ErrorsOnly",
            // The host's projects are already built (the test project references them); only the sample compiles.
            "-p:BuildProjectReferences=false", $"-p:DeltaPluginsRoot={plugins}/"]);
        Assert.True(build.ExitCode == 0, $"sample build failed: {build.Stdout}{build.Stderr}");
        // Only the plugin's own files: TorchSharp, libtorch, OpenCV and the contracts come from the host.
        Assert.Equal(["RotationPlugin.deps.json", "RotationPlugin.dll", "RotationPlugin.pdb"],
            Directory.GetFiles(Path.Combine(plugins, "RotationPlugin")).Select(f => Path.GetFileName(f)).Order().ToArray());

        WriteImages(Directory.CreateDirectory(Path.Combine(temp, "data", "pictures")).FullName, 8);
        var job = Path.Combine(temp, "job.json");
        File.WriteAllText(job, """
            { "name": "rot", "plugin": "rotation", "backbone": "tiny_resnet", "weights": "random", "dataset": "pictures",
              "delta": { "stages": 1 }, "hyper": { "epochs": 2, "batchSize": 16, "learningRate": 0.01, "schedule": "constant" },
              "seed": 5, "options": { "imageSize": 32, "validationFraction": 0.25 } }
            """);

        var list = HostProcess.Run(temp, plugins, "plugins");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("rotation", list.Stdout);

        var train = HostProcess.Run(temp, plugins, "train", job, "--json");
        Assert.True(train.ExitCode == 0, train.Stderr);
        using var doc = JsonDocument.Parse(train.Stdout);
        var patch = doc.RootElement.GetProperty("patch").GetString()!;
        Assert.Equal(Path.Combine(temp, "patches", "rot.dpatch"), patch);
        Assert.True(new FileInfo(patch).Length > 0);
        var metrics = doc.RootElement.GetProperty("metrics");
        Assert.Equal(4, metrics.GetProperty("steps").GetDouble());   // 6 training images, 4 per batch (16 rotations) → 2 steps × 2 epochs
        Assert.True(double.IsFinite(metrics.GetProperty("loss.rotation").GetDouble()));

        var eval = HostProcess.Run(temp, plugins, "eval", "rot", "--dataset", "pictures", "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        using (var scores = JsonDocument.Parse(eval.Stdout))
        {
            var accuracy = scores.RootElement.GetProperty("metrics").GetProperty("accuracy").GetDouble();
            Assert.InRange(accuracy, 0, 1);
            Assert.Equal(8, scores.RootElement.GetProperty("metrics").GetProperty("images").GetDouble());
        }

        var show = HostProcess.Run(temp, plugins, "patches", "show", "rot", "--json");
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("rotation", show.Stdout);

        // A damaged patch beside it: the listing still shows the good one, names the bad file, and exits with "bad input".
        var broken = Path.Combine(temp, "patches", "broken.dpatch");
        File.WriteAllBytes(broken, File.ReadAllBytes(patch)[..100]);
        var listing = HostProcess.Run(temp, plugins, "patches", "list");
        Assert.Equal(2, listing.ExitCode);
        Assert.Contains("rot", listing.Stdout);
        Assert.Contains(broken, listing.Stderr);
        Assert.True(File.Exists(patch));
    }

    /// <summary>Small pictures with a clear "up": a bright top band over a horizontal ramp, colours varying per image.</summary>
    private static void WriteImages(string folder, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var img = zeros(3, 24, 24);
            img[.., ..8, ..] = tensor(new[] { 1f, 0.1f * i, 0.5f }).view(3, 1, 1);
            img[.., 8.., ..] = linspace(0, 1, 24).view(1, 1, 24) * (0.3f + 0.05f * i);
            using var mat = ImageCodec.RgbTensorToMat(img);
            ImageCodec.WritePng(Path.Combine(folder, $"img{i}.png"), mat);
        }
    }
}
