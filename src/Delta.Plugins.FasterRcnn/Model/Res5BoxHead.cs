using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// The C4 box head: RoI features from C4 go through the backbone's stage 5 (<see cref="BackboneStageRunner"/>; its
/// parameters belong to the backbone, so they are not registered here and train only as the mode says), are averaged
/// over space, and give class scores and class-specific box deltas.
/// Shapes: [K, C4, P, P] → stage 5 → [K, C5, P/2, P/2] → mean over (H, W) → [K, C5] → scores [K, classes + 1],
/// deltas [K, (classes + 1) * 4].
/// </summary>
public sealed class Res5BoxHead : nn.Module<Tensor, (Tensor Scores, Tensor Deltas)>
{
    private readonly Linear cls_score;
    private readonly Linear bbox_pred;
    private readonly BackboneStageRunner stage5;

    public Res5BoxHead(BackboneStageRunner stage5, int stage5Channels, int numClassesWithBackground) : base(nameof(Res5BoxHead))
    {
        cls_score = nn.Linear(stage5Channels, numClassesWithBackground);
        bbox_pred = nn.Linear(stage5Channels, numClassesWithBackground * 4);
        RegisterComponents();
        this.stage5 = stage5;
        using (no_grad())
        {
            nn.init.normal_(cls_score.weight, std: 0.01); nn.init.zeros_(cls_score.bias);
            nn.init.normal_(bbox_pred.weight, std: 0.001); nn.init.zeros_(bbox_pred.bias);
        }
    }

    public override (Tensor Scores, Tensor Deltas) forward(Tensor roiFeatures)
    {
        using var scope = NewDisposeScope();
        var x = stage5.Forward(roiFeatures).mean([2, 3]);               // [K, C5]
        return (cls_score.call(x).MoveToOuterDisposeScope(), bbox_pred.call(x).MoveToOuterDisposeScope());
    }
}
