using Delta.Backbones.Architectures;
using static TorchSharp.torch;

namespace Delta.Backbones.Autograd;

/// <summary>
/// y = [ReLU](BN(conv(x))) of a frozen <see cref="ConvBatchNorm"/> (or its folded conv) as one autograd node that
/// saves at most a one-bit mask of y &gt; 0 (<see cref="ReluMask"/>; see <see cref="FrozenLayerBackward"/> for why).
/// <code>
///   ∂L/∂x = conv_transpose(s ⊙ [y &gt; 0] ⊙ ∂L/∂y, W)     s_c = γ_c / √(σ²_c + ε)  (1 when folded)
/// </code>
/// with the forward conv's stride, padding, dilation and groups, and the output padding that gives back x's size (a
/// strided convolution maps several input sizes to one output size).
/// </summary>
internal sealed class FrozenConvUnitFunction : autograd.SingleTensorFunction<FrozenConvUnitFunction>
{
    public override string Name => nameof(FrozenConvUnitFunction);

    /// <summary>x [N, C_in, H, W] requiring a gradient ↦ y [N, C_out, H', W'], the same values as the unit's own
    /// forward.</summary>
    public static Tensor Apply(ConvBatchNorm unit, Tensor x, bool relu)
    {
        var y = apply(x, unit, relu);
        CustomFunctionLifetime.ReleaseOutputCache();
        return y;
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var unit = (ConvBatchNorm)vars[1];
        var relu = (bool)vars[2];
        CustomFunctionLifetime.RecordForward(ctx);
        var y = unit.ForwardUnrecorded(x);
        if (relu)
        {
            y.relu_();
            ReluMask.Of(y).SaveTo(ctx);
        }
        ctx.save_data("unit", unit);
        ctx.save_data("relu", relu);
        ctx.save_data("inputSize", new[] { x.shape[2], x.shape[3] });
        return y;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        CustomFunctionLifetime.EnsureSavedTensors(ctx, Name);
        CustomFunctionLifetime.ReleaseHandedOver();
        var unit = (ConvBatchNorm)ctx.get_data("unit");
        var inputSize = (long[])ctx.get_data("inputSize");
        Tensor gradInput;
        using (NewDisposeScope())
        {
            var g = gradOutput;
            if ((bool)ctx.get_data("relu")) g = ReluMask.RestoreFrom(ctx).Apply(g);
            var scale = unit.InputGradientScale(g.dtype);
            // In place when g is already this function's own temporary: one full-size buffer, not two.
            if (scale is not null) g = ReferenceEquals(g, gradOutput) ? g.mul(scale) : g.mul_(scale);
            gradInput = TransposedConvolution(unit.Conv, g, inputSize);
            CustomFunctionLifetime.HandOver(gradInput);
        }
        gradOutput.Dispose();
        CustomFunctionLifetime.ReleaseSavedIfSingleBackward(ctx);
        return [gradInput, null!, null!];
    }

    /// <summary>∂L/∂x of x ↦ conv(x) for the incoming ∂L/∂y.</summary>
    internal static Tensor TransposedConvolution(TorchSharp.Modules.Conv2d conv, Tensor gradOutput, long[] inputSize)
    {
        var stride = conv.stride;
        var padding = conv.padding!;
        var dilation = conv.dilation;
        var kernel = conv.weight!.shape;
        var outputPadding = new long[2];
        for (int d = 0; d < 2; d++)
        {
            var covered = (gradOutput.shape[2 + d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel[2 + d] - 1) + 1;
            outputPadding[d] = inputSize[d] - covered;
        }
        var weight = conv.weight.dtype == gradOutput.dtype ? conv.weight : conv.weight.to_type(gradOutput.dtype);
        return nn.functional.conv_transpose2d(gradOutput, weight, null, stride, padding, outputPadding, dilation, conv.groups);
    }
}
