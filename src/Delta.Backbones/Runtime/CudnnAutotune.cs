using System.Runtime.InteropServices;

namespace Delta.Backbones.Runtime;

/// <summary>
/// cuDNN autotuning (PyTorch's <c>torch.backends.cudnn.benchmark = True</c>): libtorch times the candidate convolution
/// algorithms on the first call of each shape and keeps the fastest. TorchSharp 0.107 has no switch for it (only
/// allow_tf32), so this sets libtorch's own global flag, <c>at::globalContext().setBenchmarkCuDNN(bool)</c>, through
/// its exported C++ symbols in libtorch_cpu (Itanium ABI: a member function takes the object as its first argument).
/// The flag lives in the CPU library, so it can be set and read on a CPU-only build; it only changes anything where
/// cuDNN runs. Like in PyTorch, autotuned runs may pick different algorithms from one process to the next, so GPU
/// results can differ in the last bits between processes; DELTA_CUDNN_BENCHMARK=0 keeps the default heuristics.
/// </summary>
public static class CudnnAutotune
{
    private const string Library = "libtorch_cpu";

    [DllImport(Library, EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport(Library, EntryPoint = "_ZNK2at7Context14benchmarkCuDNNEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool GetBenchmark(IntPtr context);

    [DllImport(Library, EntryPoint = "_ZN2at7Context17setBenchmarkCuDNNEb")]
    private static extern void SetBenchmark(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    /// <summary>The environment variable that turns autotuning off ("0", "false", "off").</summary>
    public const string OptOutVariable = "DELTA_CUDNN_BENCHMARK";

    /// <summary>Whether libtorch autotunes cuDNN convolutions now; null when the symbols are not there (another libtorch).</summary>
    public static bool? IsEnabled
    {
        get
        {
            try { return GetBenchmark(GlobalContext()); }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return null; }
        }
    }

    /// <summary>Sets the flag and reads it back. Returns false, with the reason, when this libtorch does not export it.</summary>
    public static bool TrySet(bool enabled, out string? problem)
    {
        try
        {
            var context = GlobalContext();
            SetBenchmark(context, enabled);
            var now = GetBenchmark(context);
            problem = now == enabled ? null : $"libtorch kept cudnn benchmark = {now} after setting {enabled}.";
            return problem is null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            problem = $"this libtorch does not export at::Context::setBenchmarkCuDNN ({e.GetType().Name}); cuDNN uses its default heuristics.";
            return false;
        }
    }

    /// <summary>What the host and the bench call once they run on CUDA: autotuning on unless the opt-out variable says
    /// otherwise. Returns a line for the log when it could not be set.</summary>
    public static string? EnableForCuda()
    {
        var optOut = Environment.GetEnvironmentVariable(OptOutVariable)?.Trim().ToLowerInvariant() is "0" or "false" or "off";
        return TrySet(!optOut, out var problem) ? null : problem;
    }
}
