using Delta.Data.Voc;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>The PASCAL VOC segmentation classes (background + the 20 of <see cref="VocClasses"/>) and the devkit
/// colour map as the flat RGB palette this plugin's PNG code takes; both come from Delta.Data's VOC definitions.</summary>
public static class VocPalette
{
    public const int Void = VocClasses.Void;

    public static readonly string[] ClassNames = ["background", .. VocClasses.Names];

    /// <summary>256 RGB triples: index 1 = (128, 0, 0), 15 = (192, 128, 128), 255 = (224, 224, 192).</summary>
    public static byte[] Rgb { get; } = VocClasses.ColorMap.SelectMany(c => new[] { c.R, c.G, c.B }).ToArray();
}
