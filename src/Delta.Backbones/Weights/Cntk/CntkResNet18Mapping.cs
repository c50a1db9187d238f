namespace Delta.Backbones.Weights.Cntk;

/// <summary>
/// Which ONNX initializer of the CNTK model-zoo ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18
/// 0.23.1) holds which torchvision-named tensor of our resnet18_cntk ([2,2,2,3] BasicBlocks). Read off the
/// graph (every Conv's weight input and every BatchNormalization's scale/bias/mean/var inputs, in graph
/// order); see ../shared/ASSETS.md. In the three downsample blocks the shortcut BN bias has the same values
/// as that block's bn2 bias (a CNTK quirk): they stay separate tensors.
/// </summary>
public static class CntkResNet18Mapping
{
    private static readonly (string Prefix, int Conv1, int[] Bn1, int Conv2, int[] Bn2, int? DsConv, int[]? DsBn)[] Blocks =
    [
        ("layer1.0", 86, [113, 114, 115, 116], 82, [127, 128, 129, 130], null, null),
        ("layer1.1", 77, [144, 145, 146, 147], 73, [158, 159, 160, 161], null, null),
        ("layer2.0", 68, [175, 176, 177, 178], 64, [189, 190, 191, 192], 199, [203, 204, 205, 206]),
        ("layer2.1", 59, [220, 221, 222, 223], 55, [234, 235, 236, 237], null, null),
        ("layer3.0", 50, [251, 252, 253, 254], 46, [265, 266, 267, 268], 275, [279, 280, 281, 282]),
        ("layer3.1", 41, [296, 297, 298, 299], 37, [310, 311, 312, 313], null, null),
        ("layer4.0", 32, [327, 328, 329, 330], 28, [341, 342, 343, 344], 351, [355, 356, 357, 358]),
        ("layer4.1", 23, [372, 373, 374, 375], 19, [386, 387, 388, 389], null, null),
        ("layer4.2", 14, [403, 404, 405, 406], 10, [417, 418, 419, 420], null, null),
    ];

    /// <summary>torchvision key → ONNX initializer name (BatchNorm's num_batches_tracked has no source).</summary>
    public static IReadOnlyDictionary<string, string> TorchToOnnx { get; } = Build();

    /// <summary>Each convolution with the BatchNorm that follows it, by torchvision module name
    /// (conv1/bn1, layerS.B.conv1/bn1, …/conv2/bn2, …/downsample.0/downsample.1): 22 pairs.</summary>
    public static IReadOnlyList<(string Conv, string Bn)> ConvBnPairs { get; } = BuildPairs();

    private static List<(string, string)> BuildPairs()
    {
        var pairs = new List<(string, string)> { ("conv1", "bn1") };
        foreach (var b in Blocks)
        {
            pairs.Add(($"{b.Prefix}.conv1", $"{b.Prefix}.bn1"));
            pairs.Add(($"{b.Prefix}.conv2", $"{b.Prefix}.bn2"));
            if (b.DsConv is not null) pairs.Add(($"{b.Prefix}.downsample.0", $"{b.Prefix}.downsample.1"));
        }
        return pairs;
    }

    private static Dictionary<string, string> Build()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        void Conv(string key, int p) => map[key + ".weight"] = $"Parameter{p}";
        void Bn(string key, int[] ids)
        {
            map[key + ".weight"] = $"Parameter{ids[0]}";
            map[key + ".bias"] = $"Parameter{ids[1]}";
            map[key + ".running_mean"] = $"Constant{ids[2]}";
            map[key + ".running_var"] = $"Constant{ids[3]}";
        }
        Conv("conv1", 91);
        Bn("bn1", [96, 97, 98, 99]);
        foreach (var b in Blocks)
        {
            Conv($"{b.Prefix}.conv1", b.Conv1); Bn($"{b.Prefix}.bn1", b.Bn1);
            Conv($"{b.Prefix}.conv2", b.Conv2); Bn($"{b.Prefix}.bn2", b.Bn2);
            if (b.DsConv is { } ds) { Conv($"{b.Prefix}.downsample.0", ds); Bn($"{b.Prefix}.downsample.1", b.DsBn!); }
        }
        return map;
    }
}
