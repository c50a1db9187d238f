using Delta.Data.Voc;
using Delta.Plugins.FasterRcnn.Model;

namespace Delta.Plugins.FasterRcnn.Tests;

/// <summary>An FPN detector small enough to train a few steps in a test on 64x64 images.</summary>
internal static class TinyDetector
{
    public static DetectorSettings Settings => new()
    {
        Stages = ["C3", "C4", "C5"], FpnChannels = 16, AnchorSizes = [16, 32, 64, 128], RepresentationSize = 32, NumClasses = VocClasses.Names.Count,
        Rpn = new RpnSettings(PreNmsTopNTrain: 100, PostNmsTopNTrain: 50, BatchSizePerImage: 64),
        RoiHeads = new RoiHeadSettings(BatchSizePerImage: 32),
    };
}
