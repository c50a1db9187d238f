using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;

namespace Delta.Backbones.Delta;

/// <summary>Builds the Δ-modules of a <see cref="DeltaConfig"/> for a backbone: Δ-Networks(n) augments the
/// last n stages, each with the gate source its <see cref="DeltaVariant"/> names.</summary>
public static class DeltaStageFactory
{
    /// <summary>Hidden width of Δ_s when <see cref="DeltaConfig.HiddenChannels"/> is null: half the stage input's
    /// channels (at least 16). This is the width that reproduces the paper's Table 2 parameter counts
    /// (ResNet-18 Δ(1) 0.44M, Δ(4) 0.61M; ResNet-50 Δ(1) 7.08M, Δ(4) 9.32M — see docs/backbones.md).</summary>
    public static int DefaultHiddenChannels(int inputChannels) => Math.Max(16, inputChannels / 2);

    public static IReadOnlyList<DeltaStage> Build(StagedBackbone backbone, DeltaConfig config)
    {
        var problems = config.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
        var stages = backbone.Stages;
        if (config.Stages > stages.Count)
            throw new ArgumentException($"delta.stages = {config.Stages} but the backbone has {stages.Count} stages.");
        return stages.Skip(stages.Count - config.Stages)
            .Select(stage => new DeltaStage(stage, MakeGates(stage, config), config.BatchNorm))
            .ToList();
    }

    private static SkipGates MakeGates(BackboneStage stage, DeltaConfig config)
    {
        var k = stage.Blocks.Count;
        return config.Variant switch
        {
            DeltaVariant.Delta => new DeltaGates(stage.InputChannels, config.HiddenChannels ?? DefaultHiddenChannels(stage.InputChannels), k, config.GateStride),
            DeltaVariant.RandomGates => new RandomGates(k),
            DeltaVariant.LearnableExistingSkips => new LearnableGates(k, existingOnly: true),
            DeltaVariant.AllSkipsFixed => new FixedGates(k),
            DeltaVariant.AllSkipsLearnable => new LearnableGates(k, existingOnly: false),
            _ => throw new ArgumentException($"Unknown Δ variant {config.Variant}."),
        };
    }
}
