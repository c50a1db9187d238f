using OpenCvSharp;

namespace Delta.Data.Rendering;

/// <summary>Colours shared by the charts (BGR): a qualitative set for series, a sequential map for values in [0, 1].</summary>
public static class Palette
{
    public static readonly Scalar Background = new(255, 255, 255);
    public static readonly Scalar Axis = new(60, 60, 60);
    public static readonly Scalar Grid = new(225, 225, 225);
    public static readonly Scalar Text = new(30, 30, 30);

    private static readonly Scalar[] Series =
    [
        new(180, 119, 31), new(14, 127, 255), new(44, 160, 44), new(40, 39, 214), new(189, 103, 148),
        new(75, 86, 140), new(194, 119, 227), new(127, 127, 127), new(34, 189, 188), new(207, 190, 23),
    ];

    public static Scalar Of(int i) => Series[i % Series.Length];

    /// <summary>White → dark blue for t in [0, 1] (a sequential map that prints and reads well).</summary>
    public static Scalar Sequential(double t)
    {
        t = double.IsFinite(t) ? Math.Clamp(t, 0, 1) : 0;
        return new Scalar(255 - 140 * t, 255 - 205 * t, 255 - 230 * t);
    }
}
