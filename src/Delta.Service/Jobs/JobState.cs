namespace Delta.Service.Jobs;

/// <summary>Lifecycle: Queued → Running → (Succeeded | Failed | Cancelled); Running → Queued when a lease is lost or the host shuts down.</summary>
public enum JobState { Queued, Running, Succeeded, Failed, Cancelled }

public static class JobStates
{
    public static bool IsTerminal(this JobState s) => s is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
    public static string ToDb(this JobState s) => s.ToString().ToLowerInvariant();
    public static JobState FromDb(string s) => Enum.Parse<JobState>(s, ignoreCase: true);
}
