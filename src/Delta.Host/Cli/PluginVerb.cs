using System.CommandLine;
using Delta.Abstractions.Plugins;
using Delta.Host.Jobs;
using Delta.Host.Plugins;

namespace Delta.Host.Cli;

/// <summary>A verb contributed by a plugin: the host hands it a context and the remaining arguments unparsed.</summary>
public static class PluginVerb
{
    public static Command Create(CliApp app, LoadedPlugin plugin, PluginCommand command)
    {
        var cmd = new Command(command.Name, $"{command.Description} [plugin {plugin.Info.Id}]; usage: {command.Usage}")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        var rest = new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore, Description = "arguments for the plugin's verb" };
        cmd.Arguments.Add(rest);
        cmd.SetAction((parse, ct) => app.Guard(() =>
        {
            var device = DeviceParser.Parse(parse.GetValue(CliApp.DeviceOption) ?? "cpu");
            var args = (parse.GetValue(rest) ?? []).Concat(parse.UnmatchedTokens).ToList();
            if (parse.GetValue(CliApp.JsonOption)) args.Add("--json");
            return command.RunAsync(app.Env.Context(device, "plugin." + plugin.Info.Id), args, ct);
        }));
        return cmd;
    }
}
