using System.Diagnostics;

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
}
