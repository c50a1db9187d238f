using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ConvNeXts;

/// <summary>A parameter-free layout change inside a Sequential (torchvision's Permute), so the CNBlock keeps
/// torchvision's indices: block.0 dwconv, block.1 permute, block.2 norm, block.3 fc1, block.5 fc2.</summary>
public sealed class Permute : nn.Module<Tensor, Tensor>
{
    private readonly long[] dims;

    public Permute(params long[] dims) : base(nameof(Permute))
    {
        this.dims = dims;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x.permute(dims);
}
