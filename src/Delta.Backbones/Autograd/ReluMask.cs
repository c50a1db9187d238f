using Delta.Backbones.Precision;
using Delta.Backbones.Runtime;
using static TorchSharp.torch;

namespace Delta.Backbones.Autograd;

/// <summary>
/// Where a ReLU's output was positive, one <b>bit</b> per element, and its use in backward: ∂L/∂x = [y &gt; 0] ⊙ ∂L/∂y.
/// <para>The bits are packed eight to a byte (element e and e + M/8, …, e + 7M/8 share a byte) over y's memory order
/// (NCHW, or NHWC for channels-last maps), so the mask costs 1/32 of an fp32 activation. Unpacking gives a uint8 mask that is cast to the gradient's dtype and multiplied
/// in place: on libtorch's CPU kernels (2-core EPYC, 4M elements, 2026-11-27) multiplying by a bool mask directly is a
/// slow mixed-dtype kernel (11 ms fp32 / 3.4 ms bf16) against 1.2 / 0.8 ms for cast-and-multiply. The bits come from a
/// bool cast of y (y ≥ 0, so nonzero means positive: 0.3–0.4 ms), not a comparison (1–1.8 ms).</para>
/// </summary>
internal sealed record ReluMask(Tensor Bits, long[] Shape, bool ChannelsLast)
{
    // Kept per device (a tensor from a host array in every node's forward and backward would be a synchronous
    // host-to-device copy on CUDA, and building them there costs kernels on the hot path).
    private static readonly DeviceConstants BitValues = new([1, 2, 4, 8, 16, 32, 64, 128]);
    private static readonly DeviceConstants BitShifts = new([0, 1, 2, 3, 4, 5, 6, 7]);

    /// <summary>y = ReLU output (≥ 0, 4-D) ↦ its packed mask.</summary>
    public static ReluMask Of(Tensor reluOutput)
    {
        using var scope = NewDisposeScope();
        var channelsLast = FrozenBaseCopy.IsChannelsLast(reluOutput);
        // A flat view in memory order: NHWC is contiguous after the permute for channels-last strides.
        var ordered = channelsLast ? reluOutput.permute(0, 2, 3, 1) : reluOutput.contiguous();
        var bytes = ordered.reshape(-1).to_type(ScalarType.Bool).to_type(ScalarType.Byte);
        var pad = (8 - bytes.shape[0] % 8) % 8;
        if (pad > 0) bytes = cat([bytes, zeros(pad, dtype: ScalarType.Byte, device: bytes.device)]);
        // Eight planes of M/8 consecutive elements, plane k in bit k: a reduction over the outer dimension, which
        // libtorch vectorises across the planes' length (packing each run of 8 neighbours reduced rows of length 8,
        // several times slower).
        var values = BitValues.On(ScalarType.Byte, bytes.device).view(8, 1);
        var bits = bytes.view(8, -1).mul_(values).sum([0], type: ScalarType.Byte);    // ≤ 255: no overflow
        return new ReluMask(bits.MoveToOuterDisposeScope(), reluOutput.shape, channelsLast);
    }

    /// <summary>Keeps this mask in a custom node's context: the bits as its only saved tensor, shape and layout as data.</summary>
    public void SaveTo(TorchSharp.torch.autograd.AutogradContext ctx)
    {
        ctx.save_for_backward([Bits]);
        ctx.save_data(ShapeKey, Shape);
        ctx.save_data(ChannelsLastKey, ChannelsLast);
    }

    /// <summary>The mask <see cref="SaveTo"/> kept in <paramref name="ctx"/>.</summary>
    public static ReluMask RestoreFrom(TorchSharp.torch.autograd.AutogradContext ctx) =>
        new(ctx.get_saved_variables()[0], (long[])ctx.get_data(ShapeKey), (bool)ctx.get_data(ChannelsLastKey));

    private const string ShapeKey = "reluMask.shape";
    private const string ChannelsLastKey = "reluMask.channelsLast";

    /// <summary>∂L/∂y ↦ ∂L/∂x, a new tensor in ∂L/∂y's dtype.</summary>
    public Tensor Apply(Tensor gradOutput)
    {
        using var scope = NewDisposeScope();
        var shifts = BitShifts.On(ScalarType.Byte, Bits.device);
        var count = Shape.Aggregate(1L, (a, b) => a * b);
        var flat = Bits.unsqueeze(0).bitwise_right_shift(shifts.view(8, 1)).bitwise_and_(ones(1, dtype: ScalarType.Byte, device: Bits.device))
            .reshape(-1).narrow(0, 0, count);                                          // plane k = bit k, in order
        var mask = ChannelsLast
            ? flat.view(Shape[0], Shape[2], Shape[3], Shape[1]).permute(0, 3, 1, 2)
            : flat.view(Shape);
        return mask.to_type(gradOutput.dtype).mul_(gradOutput).MoveToOuterDisposeScope();
    }
}
