using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;

namespace Delta.Backbones.Delta;

/// <summary>Builds the Δ-modules of a <see cref="DeltaConfig"/> for a backbone: Δ-Networks(n) augments the
/// last n stages, each with the gate source its <see cref="DeltaVariant"/> names.</summary>
public static class DeltaStageFactory
{
    /// <summary>Hidden width of Δ_s when <see cref="DeltaConfig.HiddenChannels"/> is null: a quarter of the
    /// stage input's channels (at least 16), so Δ stays small next to the stage it patches.</summary>
    public static int DefaultHiddenChannels(int inputChannels) => Math.Max(16, inputChannels / 4);

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
            DeltaVariant.Delta => new DeltaGates(stage.InputChannels, config.HiddenChannels ?? DefaultHiddenChannels(stage.InputChannels), k),
            DeltaVariant.RandomGates => new RandomGates(k),
            DeltaVariant.LearnableExistingSkips => new LearnableGates(k, existingOnly: true),
            DeltaVariant.AllSkipsFixed => new FixedGates(k),
            DeltaVariant.AllSkipsLearnable => new LearnableGates(k, existingOnly: false),
            _ => throw new ArgumentException($"Unknown Δ variant {config.Variant}."),
        };
    }
}
