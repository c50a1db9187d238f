using System.Text.Json;

namespace Delta.Service.TestHost;

/// <summary>
/// The tiny job the test executor runs: linear regression (8 → 1) on data generated from <see cref="Seed"/>.
/// <see cref="StepDelayMs"/> stretches a step so tests can kill or cancel mid-run; <see cref="FailAtStep"/>
/// throws, <see cref="NanAtStep"/> feeds NaN inputs so the loss really becomes non-finite.
/// </summary>
public sealed record ToyJob
{
    public required string Name { get; init; }
    public string Device { get; init; } = "cpu";
    public int Steps { get; init; } = 50;
    public long Seed { get; init; } = 1;
    public int CheckpointEvery { get; init; } = 5;
    public int StepDelayMs { get; init; }
    public int? FailAtStep { get; init; }
    public int? NanAtStep { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };
}
