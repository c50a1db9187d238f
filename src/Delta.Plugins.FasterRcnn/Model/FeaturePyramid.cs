using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Feature Pyramid Network (Lin et al. 2017): a 1x1 lateral conv per backbone stage, a top-down path
/// (nearest 2x upsampling + add), a 3x3 output conv per level, and an extra "pool" level = max-pool(P_last, 1, stride 2)
/// used by the RPN only (torchvision's LastLevelMaxPool).
/// Shapes: stages C_i [N, c_i, H/s_i, W/s_i] (finest first) → P_i [N, out, H/s_i, W/s_i] plus pool [N, out, ⌈H/2s⌉, ⌈W/2s⌉].
/// </summary>
public sealed class FeaturePyramid : nn.Module<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> inner_blocks = new();
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layer_blocks = new();

    public int OutChannels { get; }

    public FeaturePyramid(IReadOnlyList<int> inChannels, int outChannels) : base(nameof(FeaturePyramid))
    {
        OutChannels = outChannels;
        foreach (var c in inChannels)
        {
            inner_blocks.append(nn.Conv2d(c, outChannels, 1));
            layer_blocks.append(nn.Conv2d(outChannels, outChannels, 3, padding: 1));
        }
        RegisterComponents();
        // Kaiming-uniform(a=1) weights and zero bias, as torchvision's FPN.
        foreach (var (name, p) in named_parameters())
            using (no_grad())
                if (name.EndsWith("weight")) nn.init.kaiming_uniform_(p, a: 1); else nn.init.zeros_(p);
    }

    public override IReadOnlyList<Tensor> forward(IReadOnlyList<Tensor> stages)
    {
        if (stages.Count != inner_blocks.Count) throw new ArgumentException($"FPN expects {inner_blocks.Count} stages, got {stages.Count}.");
        var results = new Tensor[stages.Count + 1];
        var last = inner_blocks[^1].call(stages[^1]);
        results[stages.Count - 1] = layer_blocks[^1].call(last);
        for (int i = stages.Count - 2; i >= 0; i--)
        {
            var lateral = inner_blocks[i].call(stages[i]);
            var top = nn.functional.interpolate(last, size: [lateral.shape[2], lateral.shape[3]], mode: InterpolationMode.Nearest);
            last = lateral + top;
            results[i] = layer_blocks[i].call(last);
        }
        results[^1] = nn.functional.max_pool2d(results[stages.Count - 1], 1, 2);
        return results;
    }
}
