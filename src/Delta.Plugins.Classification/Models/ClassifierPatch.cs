using System.Globalization;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Backbones.Patches;
using Delta.Plugins.Classification.Adapters;
using Delta.Plugins.Classification.Data;

namespace Delta.Plugins.Classification.Models;

/// <summary>Saving a classifier as a patch and rebuilding it from one (on the registry's shared base).</summary>
public static class ClassifierPatch
{
    public const string PluginId = "classification";
    /// <summary>Manifest property naming the <see cref="AdapterKind"/> of an adapter patch (absent for Δ / FC-only).</summary>
    public const string AdapterProperty = "adapter";

    /// <summary>Saves Δ (or the adapter) + head of <paramref name="model"/>, trained on <paramref name="data"/>; the
    /// manifest records the data's class names and its split (<see cref="DatasetSplit"/>) for <c>evaluate</c>.</summary>
    public static PatchSummary Save(IPatchStore store, string name, ClassifierModel model, TaskData data,
        IReadOnlyDictionary<string, double> metrics, int imageSize, bool overwrite = true)
    {
        var classes = data.ClassNames;
        var id = model.Backbone.Base;
        var properties = new Dictionary<string, string>
        {
            ["imageSize"] = imageSize.ToString(CultureInfo.InvariantCulture),
            ["numClasses"] = classes.Count.ToString(CultureInfo.InvariantCulture),
            ["head"] = "linear",
        };
        if (data.Split is { } split) foreach (var (key, value) in split.ToProperties()) properties[key] = value;
        // Adapter / BN-adaptation patches run on a private base copy, not on Δ: the loader must know which.
        if (model.Backbone is AdaptedBackbone adapted) properties[AdapterProperty] = AdapterKinds.Name(adapted.Kind);
        var manifest = new PatchManifest
        {
            Architecture = id.Architecture, BaseWeights = id.Weights, BaseWeightsSha256 = id.WeightsSha256,
            Delta = model.Backbone.Delta, PluginId = PluginId, Task = data.Name, ClassNames = classes.ToList(), Metrics = metrics,
            Properties = properties,
        };
        return store.Save(name, manifest, model.CheckpointState(), overwrite);
    }

    /// <summary>Builds the backbone the patch names, verifies the patch against that base, and loads Δ + head.</summary>
    public static (ClassifierModel Model, PatchManifest Manifest) Load(IPatchStore store, IBackboneRegistry registry, string nameOrPath, TorchSharp.torch.Device device)
    {
        var summary = store.Inspect(nameOrPath);
        var m = summary.Manifest;
        if (m.PluginId != PluginId) throw new PatchException(PatchErrorKind.Incompatible, summary.Path, $"patch belongs to plugin '{m.PluginId}', not '{PluginId}'.");
        if (!int.TryParse(m.Properties.GetValueOrDefault("numClasses"), out var classes) || classes != m.ClassNames.Count)
            throw new PatchException(PatchErrorKind.Incompatible, summary.Path, "manifest lacks a consistent numClasses/classNames.");
        ImageSize(m, summary.Path);                                 // checked here, where the file's path is known
        DatasetSplit.FromManifest(m, summary.Path);
        var request = new BackboneRequest { Architecture = m.Architecture, Weights = m.BaseWeights, Delta = m.Delta, Device = device };
        IDeltaBackbone backbone;
        if (m.Properties.TryGetValue(AdapterProperty, out var adapter))
        {
            if (!AdapterKinds.TryParse(adapter, out var kind))
                throw new PatchException(PatchErrorKind.Incompatible, summary.Path, $"unknown adapter '{adapter}'. Valid: {string.Join(", ", AdapterKinds.Names.Keys)}.");
            backbone = AdaptedBackbone.Create(registry, request, kind);
        }
        else backbone = registry.Create(request);
        var model = new ClassifierModel(backbone, classes);
        try
        {
            using var patch = store.Load(summary.Path, backbone.Base);
            try { model.LoadCheckpointState(patch.Tensors); }
            catch (ArgumentException e) { throw new PatchException(PatchErrorKind.Incompatible, summary.Path, e.Message); }
            catch (InvalidDataException e) { throw new PatchException(PatchErrorKind.Incompatible, summary.Path, e.Message); }
            model.SetTrainMode(false);
            return (model, m);
        }
        catch { model.Dispose(); throw; }
    }

    public static int ImageSize(PatchManifest m, string path) => new ManifestProperties(m, path, "classification").Int("imageSize");
}
