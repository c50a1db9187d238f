using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Data;

/// <summary>Copies a tensor's values to a host array in one transfer. Exists because TorchSharp's
/// <c>data&lt;T&gt;().ToArray()</c> throws on an empty tensor, and "no detections in this image" is an ordinary result.</summary>
public static class HostArrays
{
    public static T[] ToArray<T>(Tensor t) where T : unmanaged
    {
        if (t.numel() == 0) return [];
        using var cpu = t.detach().cpu().contiguous();
        return cpu.data<T>().ToArray();
    }
}
