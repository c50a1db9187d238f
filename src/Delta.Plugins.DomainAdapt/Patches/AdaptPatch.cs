using System.Globalization;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Plugins.DomainAdapt.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Patches;

/// <summary>
/// A domain-adaptation patch rebuilt over the frozen base: the source Δ-modules (the source task), the target Δ-modules
/// (ADDA's target encoder) and the one source classifier both share. Patch sections: <see cref="SourceDelta"/>,
/// <see cref="TargetDelta"/>, <see cref="Head"/>; manifest properties: source, target, imageSize, uniformPrior.
/// </summary>
public sealed class AdaptPatch : IDisposable
{
    public const string SourceDelta = "source_delta";
    public const string TargetDelta = "target_delta";
    public const string Head = "classifier";

    private AdaptPatch(PatchManifest manifest, DomainEncoder source, DomainEncoder target, SourceClassifier classifier, int imageSize)
    {
        Manifest = manifest; Source = source; Target = target; Classifier = classifier; ImageSize = imageSize;
    }

    public PatchManifest Manifest { get; }
    public DomainEncoder Source { get; }
    public DomainEncoder Target { get; }
    public SourceClassifier Classifier { get; }
    /// <summary>Side of the square input the patch was trained at.</summary>
    public int ImageSize { get; }
    public IReadOnlyList<string> ClassNames => Manifest.ClassNames;

    /// <summary>The encoder for "source" or "target" images.</summary>
    public DomainEncoder Encoder(string domain) => domain.ToLowerInvariant() switch
    {
        "source" => Source,
        "target" => Target,
        _ => throw new ArgumentException($"Unknown patch side '{domain}'. Valid: source, target."),
    };

    /// <summary>Loads <paramref name="nameOrPath"/> from the store; errors name the patch file and the problem
    /// (another plugin's patch, other base weights, a missing property or section).</summary>
    public static AdaptPatch Load(IPatchStore store, IBackboneRegistry registry, string nameOrPath, Device device)
    {
        using var patch = store.Load(nameOrPath);
        var m = patch.Manifest;
        if (m.PluginId != DomainAdaptPlugin.PluginId) throw new InvalidDataException($"{patch.Path}: a patch of plugin '{m.PluginId}', not '{DomainAdaptPlugin.PluginId}'.");
        if (!m.Properties.TryGetValue("imageSize", out var sizeText) || !int.TryParse(sizeText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) || size < 1)
            throw new InvalidDataException($"{patch.Path}: manifest property 'imageSize' is missing or not a positive integer.");
        foreach (var section in new[] { SourceDelta, TargetDelta, Head })
            if (patch.Section(section).Count == 0) throw new InvalidDataException($"{patch.Path}: no tensors in section '{section}'.");
        DomainEncoder? source = null, target = null;
        SourceClassifier? classifier = null;
        try
        {
            source = DomainEncoder.Create(registry, m.Architecture, m.BaseWeights, m.Delta.Stages, 0, device);
            if (source.Backbone.Base.WeightsSha256 != m.BaseWeightsSha256)
                throw new InvalidDataException($"{patch.Path}: made for base weights {m.BaseWeightsSha256[..Math.Min(12, m.BaseWeightsSha256.Length)]}…, but '{m.BaseWeights}' resolves to {source.Backbone.Base.WeightsSha256[..12]}….");
            target = DomainEncoder.Create(registry, m.Architecture, m.BaseWeights, m.Delta.Stages, 0, device);
            source.Backbone.LoadDeltaState(patch.Section(SourceDelta));
            target.Backbone.LoadDeltaState(patch.Section(TargetDelta));
            classifier = new SourceClassifier(source.NumFeatures, m.ClassNames.Count);
            classifier.load_state_dict(new Dictionary<string, Tensor>(patch.Section(Head)));
            classifier.to(device);
            classifier.eval();
            return new AdaptPatch(m, source, target, classifier, size);
        }
        catch
        {
            source?.Dispose(); target?.Dispose(); classifier?.Dispose();
            throw;
        }
    }

    public void Dispose() { Source.Dispose(); Target.Dispose(); Classifier.Dispose(); }
}
