namespace Delta.Service.Jobs;

/// <summary>
/// The CLI's job validation, handed in by the host so HTTP submissions pass exactly the same checks
/// (unknown keys, plugin/backbone names, paths confined to the data root).
/// </summary>
public interface IJobValidator
{
    /// <summary>Returns the submission to enqueue, or throws <see cref="JobValidationException"/>. Its spec is
    /// <paramref name="jobJson"/> as written: a retry under an idempotency key is told from another job by comparing its
    /// text with the spec stored for the key.</summary>
    JobSubmission Validate(string jobJson, string? idempotencyKey);
}

/// <summary>A job spec that failed validation; <see cref="Problems"/> name the key each concerns.</summary>
public sealed class JobValidationException(IReadOnlyList<string> problems) : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
