using Delta.Backbones.Registry;
using Delta.Plugins.FasterRcnn.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

public sealed class FeaturePyramidTests
{
    [Fact]
    public void Levels_Keep_Each_Stages_Resolution_And_Stride_And_The_Pool_Level_Halves_The_Last()
    {
        using var scope = NewDisposeScope();
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.Create(new() { Architecture = "tiny_resnet", Weights = "random", Delta = new() { Stages = 0 } });
        string[] stages = ["C2", "C3", "C4", "C5"];
        var info = stages.Select(s => backbone.FeatureInfo.Single(f => f.Name == s)).ToList();
        using var fpn = new FeaturePyramid(info.Select(f => f.Channels).ToList(), 24);
        const int h = 96, w = 160;   // not square, so a swapped H/W shows up
        using var noGrad = no_grad();
        var feats = backbone.Forward(randn(2, 3, h, w));
        var levels = fpn.call(stages.Select(s => feats[s]).ToList());

        Assert.Equal(stages.Length + 1, levels.Count);
        for (int l = 0; l < stages.Length; l++)
        {
            int stride = info[l].Stride;
            Assert.Equal(new long[] { 2, 24, h / stride, w / stride }, levels[l].shape);   // P_l at its stage's stride 4..32
        }
        Assert.Equal(new long[] { 2, 24, 2, 3 }, levels[^1].shape);   // pool: stride 64 → ⌈3/2⌉ x ⌈5/2⌉ from P5's 3x5
    }

    [Fact]
    public void Top_Down_Path_Adds_Nearest_Upsampled_Coarser_Laterals_By_Hand()
    {
        using var scope = NewDisposeScope();
        // One channel per level; lateral 1x1 convs multiply by 3 (C3), 2 (C4), 1 (C5); the 3x3 output convs are identity.
        using var fpn = new FeaturePyramid([1, 1, 1], 1);
        var lateralScale = new[] { 3f, 2f, 1f };
        using (no_grad())
            foreach (var (name, p) in fpn.named_parameters())
            {
                p.zero_();
                var parts = name.Split('.');                 // inner_blocks.<i>.weight / layer_blocks.<i>.weight
                if (parts[2] != "weight") continue;
                if (parts[0] == "inner_blocks") p.fill_(lateralScale[int.Parse(parts[1])]);
                else p[0, 0, 1, 1] = 1f;                     // centre tap: identity 3x3 conv
            }
        var c5 = tensor(new float[] { 1, 2 }).reshape(1, 1, 1, 2);                      // [1, 1, 1, 2]
        var c4 = tensor(new float[] { 10, 20, 30, 40, 50, 60, 70, 80 }).reshape(1, 1, 2, 4);
        var c3 = zeros(1, 1, 4, 8);
        c3[0, 0, 3, 7] = 100f;
        var levels = fpn.call([c3, c4, c5]);

        // P5 = 1·C5.
        Assert.Equal(new float[] { 1, 2 }, levels[2].flatten().data<float>().ToArray());
        // P4 = 2·C4 + nearest-up(P5 inner): columns 0-1 get 1, columns 2-3 get 2 (both rows).
        float[] p4 = [21, 41, 62, 82, 101, 121, 142, 162];
        Assert.Equal(p4, levels[1].flatten().data<float>().ToArray());
        // P3 = 3·C3 + nearest-up(P4 inner, i.e. before its 3x3 conv): each P4 value fills a 2x2 block.
        var expected3 = new float[4 * 8];
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 8; x++)
                expected3[y * 8 + x] = p4[y / 2 * 4 + x / 2] + (y == 3 && x == 7 ? 300 : 0);
        Assert.Equal(expected3, levels[0].flatten().data<float>().ToArray());
        // Pool level = max-pool(1, stride 2) of P5: every other column of the last level.
        Assert.Equal(new float[] { 1 }, levels[3].flatten().data<float>().ToArray());
    }

    [Fact]
    public void Wrong_Number_Of_Stages_Is_Refused()
    {
        using var scope = NewDisposeScope();
        using var fpn = new FeaturePyramid([4, 8], 8);
        Assert.Contains("expects 2 stages", Assert.Throws<ArgumentException>(() => fpn.call([zeros(1, 4, 8, 8)])).Message);
    }
}
