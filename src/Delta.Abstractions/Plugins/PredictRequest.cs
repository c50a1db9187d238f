namespace Delta.Abstractions.Plugins;

public sealed record PredictRequest
{
    public required string Patch { get; init; }
    /// <summary>Absolute image paths.</summary>
    public required IReadOnlyList<string> Inputs { get; init; }
    public required ITaskOptions Options { get; init; }
    /// <summary>Where rendered pictures go.</summary>
    public required string OutputDir { get; init; }
    public int TopK { get; init; } = 5;

    /// <summary>Per input, the stem to name its pictures by (<see cref="OutputNames.Stems"/>): inputs that share a file
    /// name still get pictures of their own.</summary>
    public IReadOnlyList<string> OutputStems() => OutputNames.Stems(Inputs);
}
