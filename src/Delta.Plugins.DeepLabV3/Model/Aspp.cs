using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Model;

/// <summary>
/// Atrous Spatial Pyramid Pooling (DeepLab-V3, Chen et al. 2017, §3.3): a 1x1 branch, three 3x3 atrous
/// branches and the image-pooling branch, each conv → BN → ReLU, concatenated ([N, 5·out, H, W]) and
/// projected by 1x1 conv → BN → ReLU → dropout(0.5) to [N, out, H, W]. Rates 6/12/18 at output stride 16,
/// doubled (12/24/36) at output stride 8, so the receptive field in input pixels stays the same.
/// </summary>
public sealed class Aspp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> convs;
    private readonly Sequential project;

    public IReadOnlyList<int> Rates { get; }

    /// <param name="dropoutGenerator">Where the projection's dropout draws its masks (<see cref="SeededDropout"/>).</param>
    public Aspp(int inChannels, IReadOnlyList<int> rates, Generator dropoutGenerator, int outChannels = 256, double dropout = 0.5) : base(nameof(Aspp))
    {
        if (rates.Count != 3) throw new ArgumentException($"ASPP takes three atrous rates (got {rates.Count}).");
        Rates = rates;
        var branches = new List<nn.Module<Tensor, Tensor>>
        {
            nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU()),
        };
        foreach (var r in rates)
            branches.Add(nn.Sequential(
                nn.Conv2d(inChannels, outChannels, 3, padding: r, dilation: r, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU()));
        branches.Add(new AsppPooling(inChannels, outChannels));
        convs = nn.ModuleList(branches.ToArray());
        project = nn.Sequential(
            nn.Conv2d(branches.Count * outChannels, outChannels, 1, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU(), new SeededDropout(dropout, dropoutGenerator));
        RegisterComponents();
    }

    /// <summary>Rates for an output stride: 6/12/18 at 16, 12/24/36 at 8 (the paper's doubling).</summary>
    public static int[] RatesFor(int outputStride) => outputStride switch
    {
        16 => [6, 12, 18],
        8 => [12, 24, 36],
        _ => throw new ArgumentException($"DeepLab-V3 runs at output stride 8 or 16 (got {outputStride})."),
    };

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var parts = convs.Select(b => b.call(x)).ToArray();              // 5 × [N, out, H, W]
        return project.call(cat(parts, 1)).MoveToOuterDisposeScope();
    }
}
