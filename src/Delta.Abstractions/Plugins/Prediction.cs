namespace Delta.Abstractions.Plugins;

/// <summary>One input's result. Plugins derive typed records (labels with scores, boxes, masks);
/// the host prints <see cref="Summary"/> and serialises the runtime type for --json.</summary>
public abstract record Prediction(string Input, string? RenderedImagePath)
{
    public abstract string Summary { get; }
}
