namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>The PASCAL VOC colour map (the devkit's bit-interleaving "labelcolormap") and class names.</summary>
public static class VocPalette
{
    public const int Void = 255;

    public static readonly string[] ClassNames =
    [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    /// <summary>256 RGB triples: index 1 = (128, 0, 0), 15 = (192, 128, 128), 255 = (224, 224, 192).</summary>
    public static byte[] Rgb { get; } = Build();

    private static byte[] Build()
    {
        var map = new byte[768];
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
            map[3 * i] = (byte)r; map[3 * i + 1] = (byte)g; map[3 * i + 2] = (byte)b;
        }
        return map;
    }
}
