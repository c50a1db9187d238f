using static TorchSharp.torch;

namespace Delta.Backbones.Runtime;

/// <summary>
/// A small constant (normalisation means and standard deviations, a mean image, bit values) as a tensor, made once per device and
/// dtype and kept as long as its owner. Made from the host array on every call, it would be a synchronous
/// host-to-device copy on CUDA: the host would wait for the GPU to drain its queue once per batch. Callers must not
/// dispose or modify what <see cref="On"/> returns; views of it are fine.
/// </summary>
internal sealed class DeviceConstants(float[] values)
{
    private readonly Dictionary<(ScalarType Dtype, string Device), Tensor> copies = [];

    /// <summary>The values as a 1-D tensor of <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public Tensor On(ScalarType dtype, Device device)
    {
        var key = (dtype, device.ToString());
        lock (copies)
        {
            if (copies.TryGetValue(key, out var cached)) return cached;
            Tensor made;
            // Outside inference mode even when first asked for inside it (a predict call): an inference tensor could
            // not be saved for backward by a later training step that uses the same constant.
            using (inference_mode(false))
            using (NewDisposeScope())
                made = tensor(values, dtype: ScalarType.Float32).to(dtype).to(device).DetachFromDisposeScope();
            copies[key] = made;
            return made;
        }
    }
}
