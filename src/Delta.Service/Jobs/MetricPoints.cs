namespace Delta.Service.Jobs;

/// <summary>A job's metrics history holds one point per step: what several reports said of one step is one point.</summary>
public static class MetricPoints
{
    /// <summary><paramref name="earlier"/>'s metrics with <paramref name="later"/>'s added, the later value winning a name
    /// both have; the step is theirs (they must share it).</summary>
    public static MetricPoint Merge(MetricPoint earlier, MetricPoint later)
    {
        if (earlier.Step != later.Step) throw new ArgumentException($"points of steps {earlier.Step} and {later.Step} are not one point.");
        var metrics = new Dictionary<string, double>(earlier.Metrics);
        foreach (var (name, value) in later.Metrics) metrics[name] = value;
        return new MetricPoint(earlier.Step, metrics);
    }

    /// <summary>Consecutive points of one step merged into one, in order.</summary>
    public static List<MetricPoint> MergeByStep(IEnumerable<MetricPoint> points)
    {
        var merged = new List<MetricPoint>();
        foreach (var p in points)
            if (merged.Count > 0 && merged[^1].Step == p.Step) merged[^1] = Merge(merged[^1], p);
            else merged.Add(p);
        return merged;
    }
}
