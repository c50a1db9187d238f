using System.Runtime.InteropServices;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Plugins.DomainAdapt.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Patches;

/// <summary>
/// A domain-adaptation patch rebuilt over the frozen base: the source Δ-modules (the source task), the target Δ-modules
/// (ADDA's target encoder) and the one source classifier both share. Patch sections: <see cref="SourceDelta"/>,
/// <see cref="TargetDelta"/>, <see cref="Head"/>; manifest properties: source, target, imageSize, uniformPrior, and the
/// digit split (<see cref="SplitSeed"/>, <see cref="TrainPerDomain"/>, <see cref="TestPerDomain"/>).
/// </summary>
public sealed class AdaptPatch : IDisposable
{
    public const string SourceDelta = "source_delta";
    public const string TargetDelta = "target_delta";
    public const string Head = "classifier";
    public const string SplitSeed = "splitSeed";
    public const string TrainPerDomain = "trainPerDomain";
    public const string TestPerDomain = "testPerDomain";

    /// <summary>What <c>DigitDomains.Split</c> took when the patch was trained: evaluate scores the same test images.</summary>
    public sealed record DigitSplit(int Seed, int TrainPerDomain, int TestPerDomain);

    private AdaptPatch(PatchManifest manifest, DomainEncoder source, DomainEncoder target, SourceClassifier classifier, int imageSize, DigitSplit? split)
    {
        Manifest = manifest; Source = source; Target = target; Classifier = classifier; ImageSize = imageSize; Split = split;
    }

    public PatchManifest Manifest { get; }
    public DomainEncoder Source { get; }
    public DomainEncoder Target { get; }
    public SourceClassifier Classifier { get; }
    /// <summary>Side of the square input the patch was trained at.</summary>
    public int ImageSize { get; }
    public IReadOnlyList<string> ClassNames => Manifest.ClassNames;
    /// <summary>The split the patch was trained on; null for a patch saved before it was recorded.</summary>
    public DigitSplit? Split { get; }

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
        var properties = new ManifestProperties(m, patch.Path, "domain-adaptation");
        var size = properties.Int("imageSize", minimum: 1);
        foreach (var domain in new[] { "source", "target" }) _ = properties.String(domain);
        var split = ReadSplit(properties);
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
            try { classifier.load_state_dict(new Dictionary<string, Tensor>(patch.Section(Head))); }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
            { throw new InvalidDataException($"{patch.Path}: section '{Head}' does not fit a {m.ClassNames.Count}-class classifier over {source.NumFeatures} features: {e.Message}", e); }
            classifier.to(device);
            classifier.eval();
            return new AdaptPatch(m, source, target, classifier, size, split);
        }
        catch
        {
            source?.Dispose(); target?.Dispose(); classifier?.Dispose();
            throw;
        }
    }

    private static DigitSplit? ReadSplit(ManifestProperties properties) =>
        properties.HasAll("digit split", SplitSeed, TrainPerDomain, TestPerDomain)
            ? new DigitSplit(properties.Int(SplitSeed, minimum: 0), properties.Int(TrainPerDomain, minimum: 0), properties.Int(TestPerDomain, minimum: 0))
            : null;

    public void Dispose() { Source.Dispose(); Target.Dispose(); Classifier.Dispose(); }
}
