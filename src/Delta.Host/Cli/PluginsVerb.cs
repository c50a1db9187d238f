using System.CommandLine;

namespace Delta.Host.Cli;

/// <summary>`delta plugins`: the loaded task plugins, their verbs, and every plugin that failed to load with its reason.</summary>
public static class PluginsVerb
{
    public static Command Create(CliApp app)
    {
        var cmd = new Command("plugins", $"List task plugins (from {app.Env.Paths.PluginsPath}) and load errors");
        cmd.SetAction((parse, ct) => app.Guard(() =>
        {
            var catalog = app.Env.Catalog;
            if (parse.GetValue(CliApp.JsonOption))
            {
                Output.WriteJson(new
                {
                    folder = catalog.Folder,
                    plugins = catalog.Plugins.Select(p => new
                    {
                        id = p.Info.Id, description = p.Info.Description, kind = p.Info.Kind.ToString(), path = p.AssemblyPath,
                        contractVersion = p.Info.ContractVersion, architectures = p.Info.SupportedArchitectures, deltaStages = p.Info.SupportedDeltaStages,
                        verbs = p.Commands.Select(c => c.Name),
                    }),
                    errors = catalog.Errors.Select(e => new { path = e.Path, reason = e.Reason }),
                });
            }
            else
            {
                Output.WriteTable(["id", "kind", "verbs", "description"],
                    catalog.Plugins.Select(p => (IReadOnlyList<string>)[p.Info.Id, p.Info.Kind.ToString(), string.Join(",", p.Commands.Select(c => c.Name)), p.Info.Description]));
                foreach (var e in catalog.Errors) Console.Out.WriteLine($"failed to load {e.Path}: {e.Reason}");
            }
            return Task.FromResult(ExitCodes.Ok);
        }));
        return cmd;
    }
}
