namespace Delta.Abstractions.Training;

/// <summary>Where the loop is; shared with hooks.</summary>
public sealed class TrainState
{
    public int Epoch { get; set; }
    public int Epochs { get; init; }
    /// <summary>Optimizer steps done so far (across epochs, including those before a resume).</summary>
    public long Step { get; set; }
    public long TotalSteps { get; init; }
    public bool StopRequested { get; set; }
    public string? StopReason { get; set; }
    public double? BestMonitor { get; set; }
    public List<EpochReport> History { get; } = [];
}
