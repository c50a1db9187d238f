using System.CommandLine;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Host.Jobs;
using Delta.Host.Training;
using TorchSharp;

namespace Delta.Host.Cli;

/// <summary>`delta train job.json [--resume] [--fast]`: validate the job, train through its plugin, save the patch.</summary>
public static class TrainVerb
{
    public static Command Create(CliApp app)
    {
        var job = new Argument<string>("job") { Description = "job file (JSON): name, plugin, backbone, weights, delta, dataset, hyper, device, seed, options" };
        var resume = new Option<bool>("--resume") { Description = "continue from the run's last checkpoint (runs/<name>/checkpoints)" };
        var fast = CliApp.FastOption();
        var fused = CliApp.FusedOption();
        var deltaBf16 = new Option<bool>("--delta-bf16") { Description = "with --fast: the Δ-modules' convolutions also compute in bf16 from their fp32 weights (as PyTorch's autocast would); parameters, BNs, gates and heads stay fp32" };
        var autocast = new Option<bool>("--autocast") { Description = "with --fast: the Δ-modules compute as under PyTorch's bf16 autocast — their convolutions, the gated skip sums and the skip BNs in bf16 (half the bytes of the Δ(4) skip passes); parameters, gradients, BN statistics, gates and heads stay fp32" };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace an existing patch of the job's name once the new one is trained (without it, such a job is refused before training)" };
        var cmd = new Command("train", "Train a patch from a job file") { job, resume, fast, deltaBf16, autocast, fused, overwrite };
        cmd.SetAction((parse, ct) => app.Guard(async () =>
        {
            var env = app.Env;
            var validated = JobFile.Load(Path.GetFullPath(parse.GetValue(job)!), env.Catalog, env.Registry, env.Paths.DataRoot, parse.GetValue(CliApp.DeviceOption));
            // A flag on the command line wins over the job file's "frozenBase".
            var flagged = CliApp.FrozenBaseModeOf(parse, fused, fast, deltaBf16, autocast);
            var mode = flagged != FrozenBaseMode.Exact ? flagged : validated.FrozenBase;
            if (mode != FrozenBaseMode.Exact) Console.Error.WriteLine($"delta: frozen base: {FrozenBaseModeNames.NameOf(mode)}");
            var result = await Run(env, validated, parse.GetValue(resume), new ConsoleProgress(), ct, mode, overwrite: parse.GetValue(overwrite));
            if (parse.GetValue(CliApp.JsonOption))
                Output.WriteJson(new { patch = result.Patch.Path, sizeBytes = result.Patch.SizeBytes, metrics = result.Metrics, artifacts = result.Artifacts });
            else
            {
                Output.WriteMetrics(result.Metrics);
                Console.Out.WriteLine($"patch: {result.Patch.Path} ({result.Patch.SizeBytes / 1e6:F2} MB)");
                foreach (var a in result.Artifacts) Console.Out.WriteLine($"wrote: {a}");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    /// <summary>Where a job's outputs go: the output folder, one sub-folder per job name.</summary>
    public static string OutputDir(CliEnvironment env, ValidatedJob job) => Path.Combine(env.Paths.OutputPath, job.Spec.Name);

    /// <summary>Runs a validated job in <paramref name="mode"/>; also the background service's executor, which passes
    /// its own checkpoint folder (stable across attempts and hosts). Default: "checkpoints" in the job's output folder.
    /// A job whose patch name is taken is refused before it trains, unless <paramref name="overwrite"/>
    /// (<see cref="JobPatchStore"/>), and so is one whose patch folder cannot be used.</summary>
    public static Task<TrainResult> Run(CliEnvironment env, ValidatedJob job, bool resume, IProgress<TrainProgress>? progress, CancellationToken ct,
        FrozenBaseMode mode = FrozenBaseMode.Exact, string? checkpointDir = null, bool overwrite = false, string? serviceJobId = null)
    {
        JobPatchStore.EnsureFolderUsable(env.Patches);
        if (!overwrite) JobPatchStore.EnsureFree(env.Patches, job.Spec.Name);
        var outputDir = OutputDir(env, job);
        Directory.CreateDirectory(outputDir);
        DefaultGenerator.Seed(job.Spec.Seed);
        var request = new TrainRequest
        {
            Job = job.Spec, Options = job.Options, DatasetPath = job.DatasetPath, OutputDir = outputDir,
            CheckpointDir = checkpointDir ?? Path.Combine(outputDir, "checkpoints"), Resume = resume, Progress = progress,
        };
        var context = env.Context(job.Device, "plugin." + job.Plugin.Info.Id, mode, new JobPatchStore(env.Patches, job.Spec.Name, overwrite, serviceJobId));
        return job.Plugin.Plugin.TrainAsync(context, request, ct);
    }
}
