using System.CommandLine;

namespace Delta.Host.Cli;

/// <summary>`delta patches list|show NAME|delete NAME`.</summary>
public static class PatchesVerb
{
    public static Command Create(CliApp app)
    {
        var list = new Command("list", "List saved patches");
        list.SetAction((parse, ct) => app.Guard(() =>
        {
            var unreadable = new List<Delta.Abstractions.Patches.PatchException>();
            var all = app.Env.Patches.List(unreadable);
            // A damaged file must not hide the good patches, nor pass unnoticed: listed on stderr, and the exit code says so.
            foreach (var e in unreadable) Console.Error.WriteLine($"warning: skipped {e.Message}");
            if (parse.GetValue(CliApp.JsonOption)) Output.WriteJson(all.Select(p => new { p.Name, p.Path, p.SizeBytes, p.Manifest }));
            else Output.WriteTable(["name", "plugin", "task", "backbone", "Δ", "size", "created"],
                all.Select(p => (IReadOnlyList<string>)[p.Name, p.Manifest.PluginId, p.Manifest.Task, p.Manifest.Architecture, $"Δ({p.Manifest.Delta.Stages})",
                    $"{p.SizeBytes / 1e6:F2} MB", p.Manifest.CreatedUtc.ToString("yyyy-MM-dd HH:mm")]));
            return Task.FromResult(unreadable.Count == 0 ? ExitCodes.Ok : ExitCodes.BadInput);
        }));
        var name = new Argument<string>("name") { Description = "patch name or .dpatch path" };
        var show = new Command("show", "Show a patch's manifest (checksum verified)") { name };
        show.SetAction((parse, ct) => app.Guard(() =>
        {
            var p = app.Env.Patches.Inspect(parse.GetValue(name)!);
            Output.WriteJson(new { p.Name, p.Path, p.SizeBytes, p.Manifest });
            return Task.FromResult(ExitCodes.Ok);
        }));
        var delName = new Argument<string>("name") { Description = "patch name" };
        var delete = new Command("delete", "Delete a patch") { delName };
        delete.SetAction((parse, ct) => app.Guard(() =>
        {
            var n = parse.GetValue(delName)!;
            if (!app.Env.Patches.Delete(n)) throw new BadInputException($"No patch named '{n}' in {app.Env.Paths.PatchesPath}.");
            Console.Out.WriteLine($"deleted {n}");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return new Command("patches", "Manage saved patches") { list, show, delete };
    }
}
