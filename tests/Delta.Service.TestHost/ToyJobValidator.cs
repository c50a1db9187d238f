using System.Text.Json;
using Delta.Service.Jobs;

namespace Delta.Service.TestHost;

/// <summary>Validates <see cref="ToyJob"/> specs the way the host validates real ones: unknown keys and bad values name the key.</summary>
public sealed class ToyJobValidator : IJobValidator
{
    public JobSubmission Validate(string jobJson, string? idempotencyKey)
    {
        ToyJob job;
        try { job = JsonSerializer.Deserialize<ToyJob>(jobJson, ToyJob.Json) ?? throw new JobValidationException(["empty job"]); }
        catch (JsonException e) { throw new JobValidationException([$"{e.Path}: {e.Message}"]); }
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(job.Name)) problems.Add("name: empty");
        if (job.Steps <= 0) problems.Add($"steps: must be > 0, got {job.Steps}");
        if (job.CheckpointEvery <= 0) problems.Add($"checkpointEvery: must be > 0, got {job.CheckpointEvery}");
        if (job.StepDelayMs < 0) problems.Add($"stepDelayMs: must be >= 0, got {job.StepDelayMs}");
        if (problems.Count > 0) throw new JobValidationException(problems);
        // The text as written, as the host's validator keeps it (IJobValidator): a retry is told from another job by it.
        return new JobSubmission(job.Name, job.Device, jobJson, idempotencyKey);
    }
}
