using System.Globalization;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Backbones.Patches;

namespace Delta.Plugins.Classification.Models;

/// <summary>Saving a classifier as a patch and rebuilding it from one (on the registry's shared base).</summary>
public static class ClassifierPatch
{
    public const string PluginId = "classification";

    public static PatchSummary Save(IPatchStore store, string name, ClassifierModel model, string task, IReadOnlyList<string> classes,
        IReadOnlyDictionary<string, double> metrics, int imageSize, bool overwrite = true)
    {
        var id = model.Backbone.Base;
        var manifest = new PatchManifest
        {
            Architecture = id.Architecture, BaseWeights = id.Weights, BaseWeightsSha256 = id.WeightsSha256,
            Delta = model.Backbone.Delta, PluginId = PluginId, Task = task, ClassNames = classes.ToList(), Metrics = metrics,
            Properties = new Dictionary<string, string>
            {
                ["imageSize"] = imageSize.ToString(CultureInfo.InvariantCulture),
                ["numClasses"] = classes.Count.ToString(CultureInfo.InvariantCulture),
                ["head"] = "linear",
            },
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
        var backbone = registry.Create(new BackboneRequest { Architecture = m.Architecture, Weights = m.BaseWeights, Delta = m.Delta, Device = device });
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

    public static int ImageSize(PatchManifest m) =>
        int.TryParse(m.Properties.GetValueOrDefault("imageSize"), out var s) ? s : throw new InvalidDataException("patch manifest lacks imageSize.");
}
