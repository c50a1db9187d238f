namespace Delta.Backbones.Architectures.ResNets;

/// <summary>Everything that distinguishes the ResNet family members.</summary>
/// <param name="Block">Basic (ResNet-18/34) or Bottleneck (ResNet-50/101, ResNeXt, Wide ResNet).</param>
/// <param name="Layers">Blocks per stage, any counts (e.g. [2,2,2,3] for the CNTK ResNet-18).</param>
/// <param name="BaseWidth">Stem channels and planes of the first stage (64 in torchvision; tiny test
/// architectures use 8). Stage s has BaseWidth·2^s planes.</param>
/// <param name="Groups">Grouped 3x3 convs in Bottlenecks (32 for resnext50_32x4d).</param>
/// <param name="WidthPerGroup">torchvision's width_per_group (4 for resnext50_32x4d, 128 for wide_resnet50_2).</param>
public sealed record ResNetSpec(ResNetBlockKind Block, IReadOnlyList<int> Layers, int BaseWidth = 64, int Groups = 1, int WidthPerGroup = 64)
{
    public int Expansion => Block == ResNetBlockKind.Basic ? BasicBlock.Expansion : Bottleneck.Expansion;
}
