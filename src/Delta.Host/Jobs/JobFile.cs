using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Patches;
using Delta.Host.Plugins;

namespace Delta.Host.Jobs;

/// <summary>
/// Reads a job file (JSON, camelCase; see <see cref="JobSpec"/>) and validates it completely before any
/// plugin code runs. Every problem is collected and reported with the key it concerns; unknown keys
/// (anywhere, "options" included) are errors, not silently ignored.
/// </summary>
public static class JobFile
{
    public static JsonSerializerOptions JsonOptions { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions(PatchJson.Options)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            // NaN/Infinity are accepted as JSON literals so that validation can name the key holding them.
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            // JSON null would otherwise reach every non-nullable key ("delta": null) and the checks that read it would
            // throw NullReferenceException; refused here, the error names the key (see Describe).
            RespectNullableAnnotations = true,
        };
        return o;
    }

    public static ValidatedJob Load(string path, PluginCatalog catalog, IBackboneRegistry registry, string dataRoot, string? deviceOverride = null)
    {
        if (!File.Exists(path)) throw new BadInputException($"Job file not found: {path}");
        return Parse(File.ReadAllText(path), path, catalog, registry, dataRoot, deviceOverride);
    }

    /// <summary>A job's JSON text, from a file or an HTTP request (<paramref name="source"/> prefixes every message).</summary>
    public static ValidatedJob Parse(string json, string source, PluginCatalog catalog, IBackboneRegistry registry, string dataRoot, string? deviceOverride = null)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new BadInputException($"{source}: not valid JSON: {e.Message}"); }
        if (root is not JsonObject obj) throw new BadInputException($"{source}: a job is a JSON object.");
        var optionsNode = obj["options"];
        obj.Remove("options");
        JobSpec spec;
        try { spec = obj.Deserialize<JobSpec>(JsonOptions) ?? throw new BadInputException($"{source}: empty job."); }
        catch (JsonException e) { throw new BadInputException($"{source}: {Describe(e)}"); }
        catch (ArgumentException e) { throw new BadInputException($"{source}: {e.Message}"); }
        return Validate(spec, optionsNode, source, catalog, registry, dataRoot, deviceOverride);
    }

    public static ValidatedJob Validate(JobSpec spec, JsonNode? optionsNode, string source, PluginCatalog catalog, IBackboneRegistry registry, string dataRoot, string? deviceOverride = null)
    {
        var problems = new List<string>();
        LoadedPlugin? plugin = null;
        try { plugin = catalog.Get(spec.Plugin); }
        catch (BadInputException e) { problems.Add("plugin: " + e.Message); }

        var archs = registry.Architectures.Select(a => a.Name).ToList();
        if (!archs.Contains(spec.Backbone, StringComparer.OrdinalIgnoreCase))
            problems.Add($"backbone: unknown architecture '{spec.Backbone}'. Valid: {string.Join(", ", archs)}.");
        else if (plugin is { Info.SupportedArchitectures.Count: > 0 } && !plugin.Info.SupportedArchitectures.Contains(spec.Backbone, StringComparer.OrdinalIgnoreCase))
            problems.Add($"backbone: plugin '{plugin.Info.Id}' supports {string.Join(", ", plugin.Info.SupportedArchitectures)}, not '{spec.Backbone}'.");
        if (plugin is { Info.SupportedDeltaStages.Count: > 0 } && !plugin.Info.SupportedDeltaStages.Contains(spec.Delta.Stages))
            problems.Add($"delta.stages: plugin '{plugin.Info.Id}' supports {string.Join(", ", plugin.Info.SupportedDeltaStages)}, not {spec.Delta.Stages}.");
        problems.AddRange(spec.Delta.Validate());
        problems.AddRange(spec.Hyper.Validate());
        try { PatchStore.ValidateName(spec.Name); }
        catch (Delta.Abstractions.InputException e) { problems.Add("name: " + e.Message); }

        string datasetPath = "";
        try { datasetPath = PathConfinement.Resolve(dataRoot, spec.Dataset, "dataset"); }
        catch (BadInputException e) { problems.Add(e.Message); }

        if (LooksLikePath(spec.Weights))
        {
            try { spec = spec with { Weights = PathConfinement.Resolve(dataRoot, spec.Weights, "weights") }; }
            catch (BadInputException e) { problems.Add(e.Message); }
        }

        TorchSharp.torch.Device? device = null;
        try { device = DeviceParser.Parse(deviceOverride ?? spec.Device); }
        catch (BadInputException e) { problems.Add(e.Message); }

        var frozenBase = Training.FrozenBaseModeNames.Parse(spec.FrozenBase, out var validModes);
        if (frozenBase is null) problems.Add($"frozenBase: unknown mode '{spec.FrozenBase}'. Valid: {validModes}.");

        ITaskOptions? options = null;
        if (plugin is not null)
        {
            try
            {
                options = (ITaskOptions)(optionsNode is null
                    ? Activator.CreateInstance(plugin.Plugin.OptionsType)!
                    : optionsNode.Deserialize(plugin.Plugin.OptionsType, JsonOptions)!);
                problems.AddRange(options.Validate());
            }
            catch (JsonException e) { problems.Add("options: " + Describe(e)); }
        }
        if (problems.Count > 0) throw new BadInputException(problems.Select(p => $"{source}: {p}"));
        return new ValidatedJob(spec, plugin!, options!, datasetPath, device!, frozenBase!.Value);
    }

    public static bool LooksLikePath(string weights) =>
        weights.Contains('/') || weights.Contains('\\') || Path.HasExtension(weights);

    /// <summary>JSON errors in the user's terms: "unknown key 'hyper.lr'", "hyper.epochs: expected a number".</summary>
    public static string Describe(JsonException e)
    {
        var key = (e.Path ?? "$").TrimStart('$').TrimStart('.');
        if (e.Message.Contains("doesn't allow setting null values", StringComparison.Ordinal)
            || e.Message.Contains("doesn't allow getting null values", StringComparison.Ordinal))
            return $"{(key.Length > 0 ? key : "the value")}: must not be null.";
        if (e.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var start = e.Message.IndexOf('\'');
            var end = start >= 0 ? e.Message.IndexOf('\'', start + 1) : -1;
            var name = start >= 0 && end > start ? e.Message[(start + 1)..end] : key;
            var parent = key.Contains('.') ? key[..key.LastIndexOf('.')] + "." : "";
            if (key == name || key.EndsWith("." + name, StringComparison.Ordinal)) parent = key.Length > name.Length ? key[..^(name.Length)] : "";
            return $"unknown key '{parent}{name}'.";
        }
        if (e.Message.Contains("missing required properties", StringComparison.OrdinalIgnoreCase))
            return "missing required key(s): " + e.Message[(e.Message.IndexOf(':') + 1)..].Trim().TrimEnd('.') + ".";
        return string.IsNullOrEmpty(key) ? e.Message : $"{key}: invalid value ({e.Message.Split(". Path:")[0]}).";
    }
}
