using Delta.Abstractions.Backbones;
using Delta.Data.Images;
using Delta.Plugins.Classification.Reports;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests.Reports;

/// <summary>Single-image Λ maps: the matrix layout by hand, the values of the image's own forward pass, the files.</summary>
public sealed class GateMapTests : IDisposable
{
    private readonly Synthetic env = new();
    public void Dispose() => env.Dispose();

    [Fact]
    public void PairOrderMapsOntoTheUpperTriangleByHand()
    {
        // k = 3: Λ = λ01, λ02, λ12, λ03, λ13, λ23 → rows i = 0..2, columns j = 1..3.
        var m = GateMaps.Matrix([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 3);
        Assert.Equal(0.1, m[0, 0]); Assert.Equal(0.2, m[0, 1]); Assert.Equal(0.3, m[1, 1]);
        Assert.Equal(0.4, m[0, 2]); Assert.Equal(0.5, m[1, 2]); Assert.Equal(0.6, m[2, 2]);
        Assert.True(double.IsNaN(m[1, 0]) && double.IsNaN(m[2, 0]) && double.IsNaN(m[2, 1]));
        Assert.Throws<ArgumentException>(() => GateMaps.Matrix([0.1, 0.2], 3));
    }

    [Fact]
    public void EachImagesMapsHoldTheGatesOfItsOwnForwardPassAndAreWritten()
    {
        using var backbone = env.Registry.Create(new BackboneRequest { Architecture = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = 2 }, Seed = 4 });
        backbone.Train(false);
        manual_seed(1);
        using var batch = randn(2, 3, 32, 32);
        // Reference: each image's own forward pass (a batch of 2 may differ in the last bit: other GEMM blocking).
        Tensor gatesC5, gatesC4;
        backbone.ReturnGates = true;
        using (no_grad())
        {
            var f = new[] { backbone.Forward(batch[0..1]), backbone.Forward(batch[1..2]) };
            gatesC5 = cat([f[0].Gates!["C5"], f[1].Gates!["C5"]]).DetachFromDisposeScope();
            gatesC4 = cat([f[0].Gates!["C4"], f[1].Gates!["C4"]]).DetachFromDisposeScope();
        }
        backbone.ReturnGates = false;
        var maps = new[] { GateMaps.ForImage(backbone, batch[0]), GateMaps.ForImage(backbone, batch[1].unsqueeze(0)) };
        Assert.False(backbone.ReturnGates);                                        // left as it was
        for (int n = 0; n < 2; n++)
        {
            Assert.Equal(["C4", "C5"], maps[n].Keys.Order());
            foreach (var (stage, g) in new[] { ("C4", gatesC4), ("C5", gatesC5) })
            {
                var m = maps[n][stage];
                Assert.Equal(2, m.GetLength(0));                                   // tiny_resnet: 2 blocks per stage
                Assert.Equal((double)g[n, 0].item<float>(), m[0, 0]);              // λ01
                Assert.Equal((double)g[n, 1].item<float>(), m[0, 1]);              // λ02
                Assert.Equal((double)g[n, 2].item<float>(), m[1, 1]);              // λ12
                Assert.True(double.IsNaN(m[1, 0]));
            }
        }
        Assert.NotEqual(maps[0]["C5"][0, 0], maps[1]["C5"][0, 0]);                // input-conditioned: the two images differ

        var dir = Path.Combine(env.Dir, "maps");
        using var rgb = rand(3, 32, 32);
        var files = GateMaps.Write(dir, "img0", rgb, maps[0], "img0");
        Assert.Equal([Path.Combine(dir, "img0.gates.png"), Path.Combine(dir, "img0.gates-C4.png"), Path.Combine(dir, "img0.gates-C5.png")], files);
        using var composite = ImageCodec.ReadRgb(files[0]);
        using var stageMap = ImageCodec.ReadRgb(files[2]);
        Assert.True(composite.shape[2] > stageMap.shape[2] * 2);                  // image + two maps side by side
        gatesC4.Dispose(); gatesC5.Dispose();
    }

    [Fact]
    public void BatchesAndBackbonesWithoutDeltaAreRejected()
    {
        using var delta = env.Registry.Create(new BackboneRequest { Architecture = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = 1 } });
        using var x = zeros(2, 3, 16, 16);
        Assert.Contains("one image", Assert.Throws<ArgumentException>(() => GateMaps.ForImage(delta, x)).Message);
        using var plain = env.Registry.Create(new BackboneRequest { Architecture = "tiny_resnet", Weights = "random", Delta = DeltaConfig.None });
        Assert.Contains("no Δ stages", Assert.Throws<ArgumentException>(() => GateMaps.ForImage(plain, x[0])).Message);
    }
}
