using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Delta.Bench;

/// <summary>
/// GPU memory in use, from the CUDA runtime's <c>cudaMemGetInfo</c> (total − free), for the step-memory figure on
/// CUDA: TorchSharp 0.107 exposes none of libtorch's allocator statistics (no <c>max_memory_allocated</c>). The runtime
/// library is the one libtorch already loaded (found by its soname). libtorch's caching allocator keeps freed blocks,
/// so "in use" would only ever grow; the measurement needs <see cref="NoCachingVariable"/>=1, which makes every free go
/// back to the driver, so that "in use" rises and falls with the live tensors (slower: each free synchronises).
/// </summary>
internal static class CudaMemory
{
    public const string NoCachingVariable = "PYTORCH_NO_CUDA_MEMORY_CACHING";

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int MemGetInfo(out nuint free, out nuint total);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int SetDevice(int device);

    private static MemGetInfo? memGetInfo;
    private static SetDevice? setDevice;

    /// <summary>Why the measurement cannot run here, or null.</summary>
    public static string? Open()
    {
        if (Environment.GetEnvironmentVariable(NoCachingVariable) != "1")
            return $"{NoCachingVariable}=1 is not set: libtorch's caching allocator would hide freed memory";
        if (memGetInfo is not null) return null;
        foreach (var name in new[] { "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so" })
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (NativeLibrary.TryGetExport(handle, "cudaMemGetInfo", out var info) && NativeLibrary.TryGetExport(handle, "cudaSetDevice", out var set))
            {
                memGetInfo = Marshal.GetDelegateForFunctionPointer<MemGetInfo>(info);
                setDevice = Marshal.GetDelegateForFunctionPointer<SetDevice>(set);
                return null;
            }
        }
        return "no CUDA runtime library (libcudart.so.13/12/11.0) with cudaMemGetInfo could be loaded";
    }

    private static long UsedBytes()
    {
        var status = memGetInfo!(out var free, out var total);
        return status == 0 ? (long)(total - free) : -1;
    }

    /// <summary>Peak GPU memory in use while <paramref name="step"/> runs, minus what was in use before it, in MB; a
    /// thread polls <c>cudaMemGetInfo</c> as fast as it can meanwhile. NaN when <see cref="Open"/> failed.</summary>
    public static double StepMemoryMb(Action step, Device device)
    {
        if (Open() is not null) return double.NaN;
        cuda.synchronize(device);
        GC.Collect();
        GC.WaitForPendingFinalizers();                                    // tensors waiting for finalisers hold memory
        setDevice!(Math.Max(0, (int)device.index));
        var before = UsedBytes();
        long peak = before;
        var stop = 0;
        var poller = new Thread(() =>
        {
            setDevice!(Math.Max(0, (int)device.index));
            while (Volatile.Read(ref stop) == 0)
            {
                var used = UsedBytes();
                if (used > peak) peak = used;
            }
        }) { IsBackground = true };
        poller.Start();
        try
        {
            step();
            cuda.synchronize(device);
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            poller.Join();
        }
        return before < 0 || peak < 0 ? double.NaN : (peak - before) / (1024.0 * 1024.0);
    }
}
