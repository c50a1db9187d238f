using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Backbones.Delta;
using Delta.Backbones.Registry;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Runs ONE stage of a registry backbone on any input of that stage's shape (the C4 head feeds it RoI features), and
/// the backbone only up to a given stage (<see cref="ForwardThrough"/>, the C4 head's trunk). Forward runs the stage
/// through its Δ-module (gates computed from this input, per RoI) when the stage has one and Δ is enabled, else
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
        // It runs the exact base's stages itself; a derived copy (bf16 fast mode, channels-last, folded BNs) would
        // need the registry's casts and layout repeated here.
        // A choice the user can change (--fused/--fast with the C4 head): bad input, exit 2, not a failure.
        if (!this.backbone.IsExact)
            throw new InputException($"The C4 head runs backbone stages itself and supports only the exact {BackbonePrecision.Float32} backbone, " +
                $"got {this.backbone.Precision}{(this.backbone.ChannelsLast ? " channels-last" : "")}{(this.backbone.FoldBatchNorm ? " with folded BatchNorm" : "")}.");
        if (this.backbone.BaseModel.Stages.All(s => s.Name != stageName))
            throw new ArgumentException($"Backbone has no stage '{stageName}'. Available: {string.Join(", ", this.backbone.BaseModel.Stages.Select(s => s.Name))}.");
        this.stageName = stageName;
    }

    public string StageName => stageName;

    /// <summary>
    /// The backbone's stem and stages up to and including <paramref name="lastStage"/> (the C4 head's trunk), each
    /// through its Δ-module when it has one and Δ is enabled: the same features as <see cref="IDeltaBackbone.Forward"/>,
    /// without running the later stages on the whole image. That matters beyond speed: a full-image stage 5 would also
    /// move the running statistics of its Δ-module's BatchNorm with activations the C4 head never uses.
    /// As in the registry's forward, the frozen stages before the first Δ stage run without autograd.
    /// Shapes: [N, 3, H, W] → stage name → [N, C_s, H / s, W / s].
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> ForwardThrough(Tensor images, string lastStage)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"Backbone input must be [N, 3, H, W], got [{string.Join(", ", images.shape)}].");
        var stages = backbone.BaseModel.Stages;
        int last = stages.ToList().FindIndex(s => s.Name == lastStage);
        if (last < 0) throw new ArgumentException($"Backbone has no stage '{lastStage}'. Available: {string.Join(", ", stages.Select(s => s.Name))}.");
        var deltaStages = ((DeltaTaskModule)backbone.Module).Stages;
        int firstDelta = backbone.DeltaEnabled
            ? Enumerable.Range(0, stages.Count).FirstOrDefault(i => deltaStages.ContainsKey(stages[i].Name), stages.Count)
            : stages.Count;
        using var scope = NewDisposeScope();
        var outputs = new Dictionary<string, Tensor>();
        Tensor h;
        using (backbone.BaseIsShared ? no_grad() : null)
        {
            h = backbone.BaseModel.ForwardStem(images);
            for (int i = 0; i < Math.Min(firstDelta, last + 1); i++) outputs[stages[i].Name] = h = stages[i].ForwardPlain(h);
        }
        for (int i = firstDelta; i <= last; i++)
        {
            if (deltaStages.TryGetValue(stages[i].Name, out var deltaStage))
            {
                h = deltaStage.Forward(h, out var lambda);
                lambda.Dispose();
            }
            else h = stages[i].ForwardPlain(h);
            outputs[stages[i].Name] = h;
        }
        foreach (var t in outputs.Values) t.MoveToOuterDisposeScope();
        return outputs;
    }

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
