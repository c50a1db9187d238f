using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Data.Loading;

/// <summary>
/// Host tensors (a batch, its labels, sampled indices) onto the training device without making the host wait. On CUDA
/// a tensor made from a host array, or copied from pageable memory, is a synchronous copy: the host stops until the GPU
/// has finished everything queued before it. Through page-locked memory and <c>non_blocking</c> the copy is queued
/// behind the previous step's work instead, as PyTorch's <c>DataLoader(pin_memory=True)</c> +
/// <c>.to(device, non_blocking=True)</c> do. libtorch's pinned allocator keeps the page-locked buffer until the copy has
/// run, so the caller may dispose its tensors at once. On the CPU it is a plain <c>to(device)</c>.
/// </summary>
public static class HostToDevice
{
    public static Tensor Copy(Tensor host, Device device)
    {
        if (device.type != DeviceType.CUDA || host.device.type != DeviceType.CPU) return host.to(device);
        using var scope = NewDisposeScope();
        var pinned = host.is_pinned() ? host : host.pin_memory();
        return pinned.to(device.type, device.index, non_blocking: true).MoveToOuterDisposeScope();
    }
}
