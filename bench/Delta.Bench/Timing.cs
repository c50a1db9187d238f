using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Delta.Bench;

/// <summary>Median-of-repeats timing after warm-up, and the process's memory high-water mark.</summary>
public static class Timing
{
    public static double MedianSeconds(Action body, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++) body();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var w = Stopwatch.StartNew();
            body();
            times[i] = w.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return repeats % 2 == 1 ? times[repeats / 2] : (times[repeats / 2 - 1] + times[repeats / 2]) / 2;
    }

    /// <summary>VmHWM (peak resident set) in MB from /proc/self/status; resetting it needs /proc/self/clear_refs.</summary>
    public static double PeakRssMb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return double.NaN;
    }

    public static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>VmRSS (current resident set) in MB.</summary>
    public static double RssMb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return double.NaN;
    }

    /// <summary>
    /// The memory one call of <paramref name="step"/> needs on top of what is resident before it: peak RSS during the
    /// call minus RSS before it, in MB (NaN where glibc's malloc is not there to configure). For it to count tensors
    /// and nothing else, glibc's mmap threshold is fixed at 128 KiB during the call — every tensor above that size is
    /// its own mapping, returned to the system when freed, so freed memory no longer stays resident in the heap and
    /// reused memory is no longer invisible — and free heap memory is trimmed before it. The threshold is then fixed
    /// at 32 MiB, the ceiling glibc's own adaptive threshold reaches. Page faults make the call itself slower: time
    /// nothing with it.
    /// </summary>
    public static double StepMemoryMb(Action step)
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        try
        {
            if (Glibc.mallopt(Glibc.M_MMAP_THRESHOLD, 128 * 1024) != 1) return double.NaN;
            Glibc.malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return double.NaN; }
        try
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var before = RssMb();
            ResetPeakRss();
            step();
            return PeakRssMb() - before;
        }
        finally { Glibc.mallopt(Glibc.M_MMAP_THRESHOLD, 32 * 1024 * 1024); }
    }

    private static class Glibc
    {
        public const int M_MMAP_THRESHOLD = -3;
        [DllImport("libc", EntryPoint = "mallopt")] public static extern int mallopt(int param, int value);
        [DllImport("libc", EntryPoint = "malloc_trim")] public static extern int malloc_trim(nuint pad);
    }
}
