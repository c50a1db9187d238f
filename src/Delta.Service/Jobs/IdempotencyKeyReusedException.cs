namespace Delta.Service.Jobs;

/// <summary>
/// A submission refused because its idempotency key was used for another job: the key names one submission, and only a
/// retry of it (the same job text, byte for byte) gets that job back. Before, any job sent with a used key was answered
/// with the first job, and the caller took it for the job it had sent (as Stripe and the IETF Idempotency-Key draft do,
/// the API answers 422).
/// </summary>
public sealed class IdempotencyKeyReusedException(string key, string jobId) : Exception(
    $"Idempotency-Key: the key '{key}' was used for another job ({jobId}); a retry must send the same job text. " +
    "Use a new key for a new job.")
{
    public string Key { get; } = key;
    /// <summary>The job submitted with the key.</summary>
    public string JobId { get; } = jobId;
}
