using System.CommandLine;
using Delta.Abstractions.Plugins;
using Delta.Host.Jobs;

namespace Delta.Host.Cli;

/// <summary>`delta eval PATCH --dataset PATH`: score a patch with the plugin that made it.</summary>
public static class EvalVerb
{
    public static Command Create(CliApp app)
    {
        var patch = new Argument<string>("patch") { Description = "patch name in the store, or a .dpatch path" };
        var dataset = new Option<string>("--dataset") { Description = "dataset path inside the data root", Required = true };
        var split = new Option<string>("--split") { Description = "split to score", DefaultValueFactory = _ => "test" };
        var options = new Option<string?>("--options") { Description = "plugin options (JSON file)" };
        var fast = CliApp.FastOption();
        var fused = CliApp.FusedOption();
        var cmd = new Command("eval", "Evaluate a patch on a dataset") { patch, dataset, split, options, fast, fused };
        cmd.SetAction((parse, ct) => app.Guard(async () =>
        {
            var env = app.Env;
            var summary = env.Patches.Inspect(parse.GetValue(patch)!);
            var plugin = env.Catalog.ForPatch(summary);
            var device = DeviceParser.Parse(parse.GetValue(CliApp.DeviceOption) ?? "cpu");
            var outputDir = Path.Combine(env.Paths.OutputPath, "eval", summary.Name);
            Directory.CreateDirectory(outputDir);
            var result = await plugin.Plugin.EvaluateAsync(env.Context(device, "plugin." + plugin.Info.Id, CliApp.FrozenBaseModeOf(parse, fused, fast)), new EvaluateRequest
            {
                Patch = summary.Path,
                DatasetPath = PathConfinement.Resolve(env.Paths.DataRoot, parse.GetValue(dataset)!, "--dataset"),
                Options = PluginOptions.Load(plugin, parse.GetValue(options)),
                OutputDir = outputDir,
                Split = parse.GetValue(split)!,
                Progress = new ConsoleProgress(),
            }, ct);
            if (parse.GetValue(CliApp.JsonOption)) Output.WriteJson(new { patch = summary.Path, metrics = result.Metrics, artifacts = result.Artifacts });
            else
            {
                Output.WriteMetrics(result.Metrics);
                foreach (var a in result.Artifacts) Console.Out.WriteLine($"wrote: {a}");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
