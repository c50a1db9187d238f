using System.Globalization;
using Delta.Abstractions.Plugins;

namespace Delta.Plugins.FasterRcnn;

/// <summary>One detected object in original-image pixels (xyxy, 0-based continuous coordinates).</summary>
public sealed record DetectedBox(string ClassName, int Label, double Score, double X1, double Y1, double X2, double Y2);

/// <summary>One predicted image: every box above the draw threshold, and the PNG they are drawn on.</summary>
public sealed record DetectionPrediction(string Input, string RenderedPath, IReadOnlyList<DetectedBox> Boxes) : Prediction(Input, RenderedPath)
{
    public override string Summary =>
        $"{Path.GetFileName(Input)}: {Boxes.Count} object(s)" +
        (Boxes.Count == 0 ? "" : " — " + string.Join(", ", Boxes.Take(5).Select(b => $"{b.ClassName} {b.Score.ToString("F2", CultureInfo.InvariantCulture)}"))) + $" → {RenderedPath}";
}
