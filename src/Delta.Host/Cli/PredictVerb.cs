using System.CommandLine;
using Delta.Abstractions.Plugins;
using Delta.Host.Jobs;

namespace Delta.Host.Cli;

/// <summary>`delta predict PATCH IMAGE...`: run a patch on images; each result is printed and rendered to a picture.</summary>
public static class PredictVerb
{
    public static Command Create(CliApp app)
    {
        var patch = new Argument<string>("patch") { Description = "patch name in the store, or a .dpatch path" };
        var inputs = new Argument<string[]>("images") { Description = "image files", Arity = ArgumentArity.OneOrMore };
        var topK = new Option<int>("--top-k") { Description = "labels to show per image", DefaultValueFactory = _ => 5 };
        var options = new Option<string?>("--options") { Description = "plugin options (JSON file)" };
        var outDir = new Option<string?>("--out") { Description = "folder for rendered pictures (default runs/predict/<patch>)" };
        var fast = CliApp.FastOption();
        var fused = CliApp.FusedOption();
        var cmd = new Command("predict", "Run a patch on images and render the results") { patch, inputs, topK, options, outDir, fast, fused };
        cmd.SetAction((parse, ct) => app.Guard(async () =>
        {
            var env = app.Env;
            var summary = env.Patches.Inspect(parse.GetValue(patch)!);
            var plugin = env.Catalog.ForPatch(summary);
            var device = DeviceParser.Parse(parse.GetValue(CliApp.DeviceOption) ?? "cpu");
            if (parse.GetValue(topK) < 1) throw new BadInputException("--top-k must be ≥ 1.");
            var files = parse.GetValue(inputs)!.Select(Path.GetFullPath).ToList();
            foreach (var f in files)
                if (!File.Exists(f)) throw new BadInputException(Directory.Exists(f) ? $"{f} is a folder, not an image file." : $"Image not found: {f}");
            var output = parse.GetValue(outDir) is { } o ? Path.GetFullPath(o) : Path.Combine(env.Paths.OutputPath, "predict", summary.Name);
            if (File.Exists(output)) throw new BadInputException($"--out: {output} is a file, not a folder.");
            Directory.CreateDirectory(output);
            var result = await plugin.Plugin.PredictAsync(env.Context(device, "plugin." + plugin.Info.Id, CliApp.FrozenBaseModeOf(parse, fused, fast)), new PredictRequest
            {
                Patch = summary.Path, Inputs = files, Options = PluginOptions.Load(plugin, parse.GetValue(options)), OutputDir = output, TopK = parse.GetValue(topK),
            }, ct);
            if (parse.GetValue(CliApp.JsonOption)) Output.WriteJson(result.Items.Select(i => (object)i).ToList());
            else foreach (var item in result.Items)
                Console.Out.WriteLine($"{item.Input}: {item.Summary}" + (item.RenderedImagePath is { } r ? $"  -> {r}" : ""));
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
