using System.Diagnostics;
using Delta.Plugins.FasterRcnn.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

/// <summary>Bench (prints timings, asserts only agreement): our NMS vs TorchVision .NET's nms on 2,000 boxes on the CPU.
/// Run: dotnet test tests/Delta.Plugins.FasterRcnn.Tests -c Release --no-build --filter Category=Bench --logger "console;verbosity=detailed"</summary>
public sealed class NmsBench(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Bench")]
    public void Nms_2000_Boxes_Versus_TorchVision()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(11);
        var xy = rand(2000, 2, generator: g) * 300; var wh = rand(2000, 2, generator: g) * 80 + 4;
        var boxes = cat([xy, xy + wh], 1);
        var scores = rand(2000, generator: g);
        double Median(Action a)
        {
            var t = new List<double>();
            for (int r = 0; r < 15; r++) { var sw = Stopwatch.StartNew(); a(); t.Add(sw.Elapsed.TotalMilliseconds); }
            t.Sort(); return t[t.Count / 2];
        }
        Tensor? ours = null, theirs = null;
        double oursMs = Median(() => { ours?.Dispose(); ours = Nms.Run(boxes, scores, 0.5); });
        double tvMs = Median(() => { theirs?.Dispose(); theirs = TorchSharp.torchvision.ops.nms(boxes, scores, 0.5); });
        output.WriteLine($"2000 boxes, IoU 0.5, kept {ours!.shape[0]}: ours {oursMs:F2} ms, torchvision.ops.nms {tvMs:F2} ms (median of 15), speed-up {tvMs / oursMs:F1}x");
        Assert.Equal(theirs!.data<long>().ToArray(), ours.data<long>().ToArray());
    }
}
