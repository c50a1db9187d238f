using System.Runtime.InteropServices;

namespace Delta.Bench;

/// <summary>
/// libtorch's CUDA sync debug mode, PyTorch's <c>torch.cuda.set_sync_debug_mode</c>: in "warn" mode every operation
/// that makes the host wait for the GPU (a copy from or to pageable host memory, <c>item</c>, <c>nonzero</c>, a stream
/// or device synchronise, …) logs "called a synchronizing CUDA operation" to stderr. TorchSharp 0.107 has no switch
/// for it. The mode lives in <c>c10::cuda::warning_state()</c>, exported by libc10_cuda, which returns the process's
/// one <c>WarningState</c>; its only member is the mode, an int enum (0 disabled, 1 warn, 2 error). This writes it
/// after checking that the symbol is there and that the value it holds is one of the three.
/// </summary>
internal static class CudaSyncDebug
{
    public const int Disabled = 0, Warn = 1;
    private const string Symbol = "_ZN3c104cuda13warning_stateEv";

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr WarningStateFunction();

    /// <summary>Sets the mode; returns why not (library or symbol missing, unexpected value) or null.</summary>
    public static string? TrySet(int mode)
    {
        IntPtr function = IntPtr.Zero;
        foreach (var library in new[] { "libc10_cuda.so", "libtorch_cuda.so" })
            if (NativeLibrary.TryLoad(library, out var handle) && NativeLibrary.TryGetExport(handle, Symbol, out function)) break;
        if (function == IntPtr.Zero) return $"no {Symbol} (c10::cuda::warning_state) in libc10_cuda or libtorch_cuda";
        var state = Marshal.GetDelegateForFunctionPointer<WarningStateFunction>(function)();
        var current = Marshal.ReadInt32(state);
        if (current is < 0 or > 2) return $"c10::cuda::warning_state() holds {current}, not a sync debug mode: another layout, left alone";
        Marshal.WriteInt32(state, mode);
        return null;
    }
}
