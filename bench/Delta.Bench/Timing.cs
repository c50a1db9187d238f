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
        return Median(times);
    }

    /// <summary>The median (the mean of the two middle values for an even count); NaN for none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>VmHWM (peak resident set) in MB from /proc/self/status; resetting it needs /proc/self/clear_refs.</summary>
    public static double PeakRssMb() => ProcessStatusMb("VmHWM:");

    public static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>VmRSS (current resident set) in MB.</summary>
    public static double RssMb() => ProcessStatusMb("VmRSS:");

    /// <summary>A kB field of /proc/self/status in MB; NaN where there is none.</summary>
    private static double ProcessStatusMb(string field)
    {
        if (!File.Exists("/proc/self/status")) return double.NaN;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                // "VmHWM:\t   1234 kB": a tab after the name, then spaces that vanish from 8 digits on (≥ ~9.5 GB).
                return double.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024;
        return double.NaN;
    }

    /// <summary>
    /// Fixes glibc's mmap threshold at 128 KiB for the rest of the process (--exact-memory): every tensor above that
    /// size is then its own mapping, returned to the system when freed, so RSS rises and falls with live tensors —
    /// with glibc's adaptive threshold (up to 32 MiB) freed tensors stay resident in the heap and reused memory is
    /// invisible. It has to happen before the first step: in a scratch program (Δ(4) ResNet-50, batch 32, 160², forward
    /// and backward), fixed halfway through the run it made one step read 1,213–1,309 MB over its starting RSS against
    /// 862 MB fixed from the start, steady over 7 steps. Returns why it could not be done, or null.
    /// </summary>
    public static string? FixMmapThreshold()
    {
        if (!OperatingSystem.IsLinux()) return "needs Linux (glibc)";
        try { return Glibc.mallopt(Glibc.M_MMAP_THRESHOLD, 128 * 1024) == 1 ? null : "mallopt(M_MMAP_THRESHOLD) refused"; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return $"no glibc mallopt ({e.Message})"; }
    }

    /// <summary>The memory one call of <paramref name="step"/> needs on top of what is resident before it: peak RSS
    /// during the call minus RSS before it, in MB. Meaningful only after <see cref="FixMmapThreshold"/>.</summary>
    public static double StepMemoryMb(Action step)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = RssMb();
        ResetPeakRss();
        step();
        return PeakRssMb() - before;
    }

    private static class Glibc
    {
        public const int M_MMAP_THRESHOLD = -3;
        [DllImport("libc", EntryPoint = "mallopt")] public static extern int mallopt(int param, int value);
    }
}
