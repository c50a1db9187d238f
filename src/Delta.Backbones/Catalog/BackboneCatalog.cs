using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures.ConvNeXts;
using Delta.Backbones.Architectures.ResNets;

namespace Delta.Backbones.Catalog;

/// <summary>
/// Every architecture the registry knows, by registry name. The torchvision ResNet family, the real
/// pretrained CNTK ResNet-18 ([2,2,2,3]), and tiny variants for fast tests and CI.
/// </summary>
public static class BackboneCatalog
{
    public const string ImageNet = "imagenet";

    public static IReadOnlyList<CatalogEntry> All { get; } = new[]
    {
        ResNetEntry("resnet18", new(ResNetBlockKind.Basic, new[] { 2, 2, 2, 2 }), "ResNet-18 (torchvision layout)"),
        ResNetEntry("resnet34", new(ResNetBlockKind.Basic, new[] { 3, 4, 6, 3 }), "ResNet-34 (torchvision layout)"),
        ResNetEntry("resnet50", new(ResNetBlockKind.Bottleneck, new[] { 3, 4, 6, 3 }), "ResNet-50 v1.5 (torchvision layout)"),
        ResNetEntry("resnet101", new(ResNetBlockKind.Bottleneck, new[] { 3, 4, 23, 3 }), "ResNet-101 v1.5 (torchvision layout)"),
        ResNetEntry("resnext50_32x4d", new(ResNetBlockKind.Bottleneck, new[] { 3, 4, 6, 3 }, Groups: 32, WidthPerGroup: 4), "ResNeXt-50 32x4d (torchvision layout)"),
        ResNetEntry("wide_resnet50_2", new(ResNetBlockKind.Bottleneck, new[] { 3, 4, 6, 3 }, WidthPerGroup: 128), "Wide ResNet-50-2 (torchvision layout)"),
        ResNetEntry("resnet18_cntk", new(ResNetBlockKind.Basic, new[] { 2, 2, 2, 3 }),
            "ResNet-18 as shipped in Microsoft.ML.DnnImageFeaturizer.ResNet18 (BasicBlock [2,2,2,3]); real ImageNet weights", ImageNet),
        ConvNeXtEntry("convnext_tiny", ConvNeXtSpec.Tiny, "ConvNeXt-Tiny (torchvision layout): stages [3,3,9,3], dims [96,192,384,768]"),
        ResNetEntry("tiny_resnet", new(ResNetBlockKind.Basic, new[] { 2, 2, 2, 2 }, BaseWidth: 8), "Test-size BasicBlock ResNet [2,2,2,2], width 8"),
        ResNetEntry("tiny_bottleneck", new(ResNetBlockKind.Bottleneck, new[] { 1, 2, 3, 2 }, BaseWidth: 8), "Test-size Bottleneck ResNet [1,2,3,2], width 8 (dilation-capable)"),
        ConvNeXtEntry("tiny_convnext", new ConvNeXtSpec(new[] { 2, 2, 3, 2 }, new[] { 8, 16, 32, 64 }), "Test-size ConvNeXt [2,2,3,2], dims [8,16,32,64]"),
    };

    public static IReadOnlyList<string> Names => All.Select(e => e.Info.Name).ToList();

    public static CatalogEntry Get(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Info.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown backbone architecture '{name}'. Valid: {string.Join(", ", Names)}.", nameof(name));

    private static CatalogEntry ResNetEntry(string name, ResNetSpec spec, string description, params string[] pretrained)
    {
        var features = Enumerable.Range(0, 4)
            .Select(s => new FeatureInfo($"C{s + 2}", (spec.BaseWidth << s) * spec.Expansion, 4 << s))
            .ToList();
        var family = spec.Block == ResNetBlockKind.Basic ? "resnet-basic" : "resnet-bottleneck";
        var info = new BackboneInfo(name, family, spec.Layers, features, pretrained, description);
        return new CatalogEntry(info, outputStride => new ResNet(spec, outputStride));
    }

    private static CatalogEntry ConvNeXtEntry(string name, ConvNeXtSpec spec, string description, params string[] pretrained)
    {
        var features = Enumerable.Range(0, 4).Select(s => new FeatureInfo($"C{s + 2}", spec.Dims[s], 4 << s)).ToList();
        var info = new BackboneInfo(name, "convnext", spec.Depths, features, pretrained, description);
        return new CatalogEntry(info, outputStride => new ConvNeXt(spec, outputStride));
    }
}
