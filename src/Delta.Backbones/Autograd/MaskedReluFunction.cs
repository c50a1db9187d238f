using static TorchSharp.torch;

namespace Delta.Backbones.Autograd;

/// <summary>
/// y = ReLU(x) as an autograd node that saves a one-bit mask of y &gt; 0 (<see cref="ReluMask"/>) instead of y itself:
/// ∂L/∂x = [y &gt; 0] ⊙ ∂L/∂y. For the ReLU after a frozen residual block's sum (see <see cref="FrozenLayerBackward"/>).
/// </summary>
internal sealed class MaskedReluFunction : autograd.SingleTensorFunction<MaskedReluFunction>
{
    public override string Name => nameof(MaskedReluFunction);

    public static Tensor Apply(Tensor x)
    {
        var y = apply(x);
        CustomFunctionLifetime.ReleaseOutputCache();
        return y;
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        CustomFunctionLifetime.RecordForward(ctx);
        var y = nn.functional.relu((Tensor)vars[0]);
        ReluMask.Of(y).SaveTo(ctx);
        return y;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        CustomFunctionLifetime.EnsureSavedTensors(ctx, Name);
        CustomFunctionLifetime.ReleaseHandedOver();
        Tensor gradInput;
        using (NewDisposeScope())
        {
            gradInput = ReluMask.RestoreFrom(ctx).Apply(gradOutput);
            CustomFunctionLifetime.HandOver(gradInput);
        }
        gradOutput.Dispose();
        CustomFunctionLifetime.ReleaseSavedIfSingleBackward(ctx);
        return [gradInput];
    }
}
