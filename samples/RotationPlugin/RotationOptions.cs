using Delta.Abstractions.Plugins;

namespace RotationPlugin;

/// <summary>The job file's "options" section for the rotation task (unknown keys are rejected by the host).</summary>
public sealed class RotationOptions : ITaskOptions
{
    /// <summary>Images are resized to a square of this side before rotating (so all four rotations share one shape).</summary>
    public int ImageSize { get; set; } = 32;
    /// <summary>Share of the images (not rotations) held out for validation accuracy; 0 = none.</summary>
    public double ValidationFraction { get; set; } = 0.2;

    public IEnumerable<string> Validate()
    {
        if (ImageSize is < 16 or > 512) yield return $"options.imageSize must be in [16, 512] (got {ImageSize}).";
        if (!(ValidationFraction >= 0 && ValidationFraction < 1)) yield return $"options.validationFraction must be in [0, 1) (got {ValidationFraction}).";
    }
}
