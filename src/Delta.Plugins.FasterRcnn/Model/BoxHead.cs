using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// The Fast R-CNN head: two FC layers (TwoMLPHead) on flattened RoI features, then class scores (classes + background)
/// and class-specific box deltas. Shapes: [K, C, P, P] → scores [K, classes + 1], deltas [K, (classes + 1) * 4].
/// </summary>
public sealed class BoxHead : nn.Module<Tensor, (Tensor Scores, Tensor Deltas)>
{
    private readonly Linear fc6;
    private readonly Linear fc7;
    private readonly Linear cls_score;
    private readonly Linear bbox_pred;

    public BoxHead(int inFeatures, int representationSize, int numClassesWithBackground) : base(nameof(BoxHead))
    {
        fc6 = nn.Linear(inFeatures, representationSize);
        fc7 = nn.Linear(representationSize, representationSize);
        cls_score = nn.Linear(representationSize, numClassesWithBackground);
        bbox_pred = nn.Linear(representationSize, numClassesWithBackground * 4);
        RegisterComponents();
        using (no_grad())
        {
            nn.init.normal_(cls_score.weight, std: 0.01); nn.init.zeros_(cls_score.bias);
            nn.init.normal_(bbox_pred.weight, std: 0.001); nn.init.zeros_(bbox_pred.bias);
        }
    }

    public override (Tensor Scores, Tensor Deltas) forward(Tensor roiFeatures)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(fc6.call(roiFeatures.flatten(1)));   // [K, C*P*P] → [K, R]
        x = nn.functional.relu(fc7.call(x));
        var s = cls_score.call(x).MoveToOuterDisposeScope();
        var d = bbox_pred.call(x).MoveToOuterDisposeScope();
        return (s, d);
    }
}
