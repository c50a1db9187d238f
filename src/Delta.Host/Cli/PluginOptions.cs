using System.Text.Json;
using System.Text.Json.Nodes;
using Delta.Abstractions.Plugins;
using Delta.Host.Jobs;
using Delta.Host.Plugins;

namespace Delta.Host.Cli;

/// <summary>A plugin's options for eval/predict: from an --options JSON file (validated like a job's "options"), else defaults.</summary>
public static class PluginOptions
{
    public static ITaskOptions Load(LoadedPlugin plugin, string? file)
    {
        ITaskOptions options;
        if (file is null) options = (ITaskOptions)Activator.CreateInstance(plugin.Plugin.OptionsType)!;
        else
        {
            if (!File.Exists(file)) throw new BadInputException($"Options file not found: {file}");
            try
            {
                // "null" parses to no node at all: said so here rather than as a NullReferenceException.
                var node = JsonNode.Parse(File.ReadAllText(file)) as JsonObject
                    ?? throw new BadInputException($"{file}: an options file is a JSON object.");
                options = (ITaskOptions)node.Deserialize(plugin.Plugin.OptionsType, JobFile.JsonOptions)!;
            }
            catch (JsonException e) { throw new BadInputException($"{file}: {JobFile.Describe(e)}"); }
        }
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new BadInputException(problems.Select(p => $"{file ?? "options"}: {p}"));
        return options;
    }
}
