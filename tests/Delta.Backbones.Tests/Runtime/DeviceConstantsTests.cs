using Delta.Backbones.Runtime;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Runtime;

/// <summary>The per-device constant is made once per (dtype, device), holds the values, and survives the dispose scope
/// it was first asked for in.</summary>
public class DeviceConstantsTests
{
    [Fact]
    public void MadeOncePerDtypeAndDeviceWithTheValuesAndOutlivingTheCallersScope()
    {
        var values = new[] { 0.485f, 0.456f, 0.406f };
        var constants = new DeviceConstants(values);
        Tensor first;
        using (NewDisposeScope()) first = constants.On(ScalarType.Float32, CPU);
        Assert.False(first.IsInvalid);                                          // not owned by the scope it was made in
        Assert.Same(first, constants.On(ScalarType.Float32, CPU));
        Assert.Equal(values, first.data<float>().ToArray());

        var asDouble = constants.On(ScalarType.Float64, CPU);
        Assert.NotSame(first, asDouble);
        Assert.Equal(values.Select(v => (double)v), asDouble.data<double>().ToArray());
    }

    /// <summary>Made first inside inference mode (a predict call), the constant is still an ordinary tensor: autograd
    /// may save it for backward in a later training step (an inference tensor would make that backward throw).</summary>
    [Fact]
    public void MadeInsideInferenceModeItCanStillBeSavedForBackward()
    {
        var constants = new DeviceConstants([0.229f, 0.224f, 0.225f]);
        using (inference_mode()) constants.On(ScalarType.Float32, CPU);
        using var scope = NewDisposeScope();
        var x = ones(3).requires_grad_();
        (x / constants.On(ScalarType.Float32, CPU)).sum().backward();     // div saves its divisor
        Assert.Equal(new[] { 1 / 0.229f, 1 / 0.224f, 1 / 0.225f }, x.grad!.data<float>().ToArray());
    }
}
