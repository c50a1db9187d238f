namespace Delta.Service.Jobs;

/// <summary>A validated job to enqueue. The same <see cref="IdempotencyKey"/> submitted twice yields one job.</summary>
public sealed record JobSubmission(string Name, string Device, string Spec, string? IdempotencyKey = null);
