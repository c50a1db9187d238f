using Delta.Abstractions.Backbones;
using Delta.Backbones.Delta;
using Delta.Backbones.Registry;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Runs ONE stage of a registry backbone on any input of that stage's shape (the C4 head feeds it RoI features):
/// through the stage's Δ-module (gates computed from this input, per RoI) when the stage has one and Δ is enabled, else
/// the plain stage. The weights are the backbone's own: the shared frozen base (eval BN, no gradients to it) or the
/// private fine-tuning copy, so nothing here is a second copy of stage 5.
/// Shapes: [K, C_in, H, W] → [K, C_out, H / s, W / s] with the stage's stride s (2 for C5 of an undilated ResNet).
/// </summary>
public sealed class BackboneStageRunner
{
    private readonly DeltaBackbone backbone;
    private readonly string stageName;

    public BackboneStageRunner(IDeltaBackbone backbone, string stageName)
    {
        this.backbone = backbone as DeltaBackbone
            ?? throw new NotSupportedException($"Running a single backbone stage needs the registry's {nameof(DeltaBackbone)}, got {backbone.GetType().Name}.");
        if (this.backbone.BaseModel.Stages.All(s => s.Name != stageName))
            throw new ArgumentException($"Backbone has no stage '{stageName}'. Available: {string.Join(", ", this.backbone.BaseModel.Stages.Select(s => s.Name))}.");
        this.stageName = stageName;
    }

    public string StageName => stageName;

    public Tensor Forward(Tensor x)
    {
        if (backbone.DeltaEnabled && ((DeltaTaskModule)backbone.Module).Stages.TryGetValue(stageName, out var deltaStage))
        {
            var h = deltaStage.Forward(x, out var lambda);
            lambda.Dispose();
            return h;
        }
        using var scope = NewDisposeScope();
        return backbone.BaseModel.Stages.Single(s => s.Name == stageName).ForwardPlain(x).MoveToOuterDisposeScope();
    }
}
