namespace Delta.Service.Jobs;

/// <summary>A job log line; <see cref="Seq"/> increases per job so readers can follow with "after".</summary>
public sealed record LogLine(long Seq, DateTimeOffset Time, string Text);
