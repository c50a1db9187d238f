namespace Delta.Service.Jobs;

/// <summary>
/// A submission refused because a job that has not ended (queued or running) already has its name: a job's name is
/// the name of the patch it saves, so of two such jobs only the first could save, and the other would fail after
/// waiting in the queue (or after training, with both running on two devices). Names compare exactly, as the patch
/// store's do.
/// </summary>
public sealed class JobNameTakenException(string name, string holderId, JobState holderState) : Exception(
    $"name: job {holderId} ({holderState.ToDb()}) already has the name '{name}', and a job's name is the patch it saves. " +
    $"Wait until that job has ended, cancel it (delta jobs cancel {holderId}), or give this job another name.")
{
    public string Name { get; } = name;
    /// <summary>The job that holds the name.</summary>
    public string HolderId { get; } = holderId;
}
