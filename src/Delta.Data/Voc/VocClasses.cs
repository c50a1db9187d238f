namespace Delta.Data.Voc;

/// <summary>The 20 PASCAL VOC object classes in the devkit's order (label = index + 1; 0 = background).</summary>
public static class VocClasses
{
    public static readonly IReadOnlyList<string> Names =
    [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    /// <summary>The 21 segmentation classes: label 0 = "background", then <see cref="Names"/> (label = index).</summary>
    public static readonly IReadOnlyList<string> SegmentationNames = ["background", .. Names];

    /// <summary>Segmentation label of the void/ignore region in SegmentationClass PNGs.</summary>
    public const byte Void = 255;

    /// <summary>1-based label of a class name, or -1 if unknown.</summary>
    public static int LabelOf(string name)
    {
        for (int i = 0; i < Names.Count; i++) if (Names[i] == name) return i + 1;
        return -1;
    }

    /// <summary>The standard VOC colormap (bit-interleaved label → RGB), 256 entries; 255 (void) is (224,224,192).</summary>
    public static IReadOnlyList<(byte R, byte G, byte B)> ColorMap { get; } = BuildColorMap();

    private static (byte, byte, byte)[] BuildColorMap()
    {
        var map = new (byte, byte, byte)[256];
        for (int i = 0; i < 256; i++)
        {
            int r = 0, g = 0, b = 0, c = i;
            for (int j = 0; j < 8; j++)
            {
                r |= ((c >> 0) & 1) << (7 - j);
                g |= ((c >> 1) & 1) << (7 - j);
                b |= ((c >> 2) & 1) << (7 - j);
                c >>= 3;
            }
            map[i] = ((byte)r, (byte)g, (byte)b);
        }
        return map;
    }
}
