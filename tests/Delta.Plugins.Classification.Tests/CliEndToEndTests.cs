using System.Text.Json;
using Delta.Abstractions;
using Delta.Data.Images;
using OpenCvSharp;

namespace Delta.Plugins.Classification.Tests;

/// <summary>train → eval → predict through the built host process, with the plugin loaded from plugins/.</summary>
[Trait("Category", "Slow")]
public sealed class CliEndToEndTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-cli-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private (int Code, string Out, string Err) Delta(params string[] args) => HostProcess.Run(dir, args);

    private string MakeImageFolder() => Synthetic.ImageFolder(Path.Combine(dir, "data", "bars"));

    [Fact]
    public void TrainEvalPredictThroughTheCli()
    {
        var images = MakeImageFolder();
        var job = Path.Combine(dir, "job.json");
        File.WriteAllText(job, """
        {
          "name": "bars",
          "plugin": "classification",
          "backbone": "tiny_resnet",
          "weights": "random",
          "delta": { "stages": 2 },
          "dataset": "bars",
          "hyper": { "epochs": 3, "batchSize": 8, "learningRate": 0.005 },
          "seed": 3,
          "options": { "imageSize": 32, "validationFraction": 0.1 }
        }
        """);
        var train = Delta("train", job, "--json");
        Assert.True(train.Code == 0, train.Err);
        using var doc = JsonDocument.Parse(train.Out);
        var patchPath = doc.RootElement.GetProperty("patch").GetString()!;
        Assert.True(File.Exists(patchPath));
        Assert.InRange(doc.RootElement.GetProperty("metrics").GetProperty("top1").GetDouble(), 0, 1);

        // The same job again: its patch name is taken, so it is refused before training and the patch is untouched;
        // with --overwrite it trains and replaces it.
        var savedBytes = File.ReadAllBytes(patchPath);
        var again = Delta("train", job);
        Assert.Equal(2, again.Code);
        Assert.Contains("a patch 'bars' already exists", again.Err);
        Assert.Equal(savedBytes, File.ReadAllBytes(patchPath));
        var replaced = Delta("train", job, "--overwrite", "--json");
        Assert.True(replaced.Code == 0, replaced.Err);
        Assert.NotEqual(savedBytes, File.ReadAllBytes(patchPath));                 // a new file (its manifest's time differs)

        var list = Delta("patches", "list");
        Assert.Equal(0, list.Code);
        Assert.Contains("bars", list.Out);

        var eval = Delta("eval", "bars", "--dataset", "bars", "--json");
        Assert.True(eval.Code == 0, eval.Err);
        using var evalDoc = JsonDocument.Parse(eval.Out);
        Assert.Equal(10, evalDoc.RootElement.GetProperty("metrics").GetProperty("images").GetDouble());   // testFraction 0.2: round(24 · 0.2) = 5 per class

        // The same patch on the fused fp32 base (folded BNs, channels-last) scores the same: it differs from the exact
        // base by fp32 rounding only. The bf16 fast mode runs it too (its score may differ by bf16 rounding).
        var fused = Delta("eval", "bars", "--dataset", "bars", "--json", "--fused");
        Assert.True(fused.Code == 0, fused.Err);
        using var fusedDoc = JsonDocument.Parse(fused.Out);
        Assert.Equal(evalDoc.RootElement.GetProperty("metrics").GetProperty("top1").GetDouble(),
            fusedDoc.RootElement.GetProperty("metrics").GetProperty("top1").GetDouble());
        var fast = Delta("eval", "bars", "--dataset", "bars", "--json", "--fast");
        Assert.True(fast.Code == 0, fast.Err);
        using var fastDoc = JsonDocument.Parse(fast.Out);
        Assert.InRange(fastDoc.RootElement.GetProperty("metrics").GetProperty("top1").GetDouble(), 0, 1);
        var both = Delta("eval", "bars", "--dataset", "bars", "--fused", "--fast");
        Assert.Equal(2, both.Code);
        Assert.Contains("--fused and --fast", both.Err);

        // A patch trained in the fast mode with autocast-style Δ-modules (bf16 convolutions, skip sums and skip BNs)
        // is an ordinary patch: the exact mode evaluates it. The job file can ask for the mode ("frozenBase", what a
        // service job uses); --autocast alone is refused.
        var autocastJob = Path.Combine(dir, "job-autocast.json");
        File.WriteAllText(autocastJob, File.ReadAllText(job).Replace("\"name\": \"bars\"", "\"name\": \"bars-autocast\", \"frozenBase\": \"fast-autocast\""));
        var alone = Delta("train", autocastJob, "--autocast");
        Assert.Equal(2, alone.Code);
        Assert.Contains("--autocast goes with --fast", alone.Err);
        var autocast = Delta("train", autocastJob, "--json");
        Assert.True(autocast.Code == 0, autocast.Err);
        Assert.Contains("frozen base: fast-autocast", autocast.Err);
        var autocastEval = Delta("eval", "bars-autocast", "--dataset", "bars", "--json");
        Assert.True(autocastEval.Code == 0, autocastEval.Err);
        using var autocastDoc = JsonDocument.Parse(autocastEval.Out);
        Assert.InRange(autocastDoc.RootElement.GetProperty("metrics").GetProperty("top1").GetDouble(), 0, 1);

        var predict = Delta("predict", "bars", Path.Combine(images, "left", "00.png"), Path.Combine(images, "right", "00.png"), "--top-k", "2", "--out", Path.Combine(dir, "pred"));
        Assert.True(predict.Code == 0, predict.Err);
        Assert.Equal(2, predict.Out.Trim().Split('\n').Length);
        Assert.True(File.Exists(Path.Combine(dir, "pred", "00.top5.png")));
    }

    [Fact]
    public void BadInputGivesExitCodeTwoAndNamesTheKey()
    {
        MakeImageFolder();
        var job = Path.Combine(dir, "bad.json");
        File.WriteAllText(job, """
        { "name": "x", "plugin": "classification", "backbone": "tiny_resnet", "weights": "random", "dataset": "../../etc",
          "hyper": { "learningRate": -1 }, "options": { "imageSize": 8, "colour": true } }
        """);
        var r = Delta("train", job);
        Assert.Equal(2, r.Code);
        Assert.Contains("options", r.Err);
        var unknownBackbone = Path.Combine(dir, "bad2.json");
        File.WriteAllText(unknownBackbone, """{ "name": "x", "plugin": "classification", "backbone": "resnet9000", "dataset": "bars", "hyper": { "learningRate": "NaN" } }""");
        var r2 = Delta("train", unknownBackbone);
        Assert.Equal(2, r2.Code);
        Assert.Contains("resnet9000", r2.Err);
        Assert.Contains("hyper.learningRate", r2.Err);
        var missing = Delta("eval", "no-such-patch", "--dataset", "bars");
        Assert.Equal(2, missing.Code);
    }

    /// <summary>Mistakes a user makes after a good training run: each is refused with exit code 2 and a message naming the
    /// option, file or name and the problem, without a stack trace, and the saved patch is untouched.</summary>
    [Fact]
    public void UserMistakesExitTwoNameTheProblemAndLeaveThePatchAlone()
    {
        var images = MakeImageFolder();
        const string tinyJob = """
        { "name": "NAME", "plugin": "classification", "backbone": "tiny_resnet", "weights": "random", "delta": { "stages": 1 },
          "dataset": "DATASET", "hyper": { "epochs": 1, "batchSize": 8, "learningRate": 0.005 }, "seed": 3, "options": { "imageSize": 32 OPTIONS } }
        """;
        string Job(string name, string dataset = "bars", string options = "")
        {
            var path = Path.Combine(dir, name + ".json");
            File.WriteAllText(path, tinyJob.Replace("NAME", name).Replace("DATASET", dataset).Replace("OPTIONS", options));
            return path;
        }
        static void BadInput((int Code, string Out, string Err) r, params string[] expected)
        {
            Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
            foreach (var e in expected) Assert.Contains(e, r.Err);
            Assert.DoesNotContain(" at Delta.", r.Err);                        // no stack trace
            Assert.DoesNotContain("failed:", r.Err);                           // not reported as a failure of valid work
        }

        var trained = Delta("train", Job("bars"), "--json");
        Assert.True(trained.Code == 0, trained.Err);
        var patchPath = Path.Combine(dir, "patches", "bars.dpatch");
        var saved = File.ReadAllBytes(patchPath);

        BadInput(Delta("eval", "bars", "--dataset", "bars", "--split", "tset"), "--split", "'tset'", "test, val, train");
        BadInput(Delta("train", Job("adapted", options: ", \"adapter\": \"bn-adapt\"")), "options.adapter", "delta.stages");

        // One class: nothing to tell apart (cross entropy is 0 from the first step), so there is nothing to train.
        var one = Path.Combine(dir, "data", "one", "left");
        Directory.CreateDirectory(one);
        foreach (var f in Directory.GetFiles(Path.Combine(images, "left"))) File.Copy(f, Path.Combine(one, Path.GetFileName(f)));
        BadInput(Delta("train", Job("one", dataset: "one")), Path.Combine(dir, "data", "one"), "one class", "left");
        Assert.False(File.Exists(Path.Combine(dir, "patches", "one.dpatch")));

        // Names that are not patch names (a path typed where a name goes) are bad input on every verb that takes one.
        BadInput(Delta("patches", "delete", "../bars"), "'../bars'");
        BadInput(Delta("eval", ".bars", "--dataset", "bars"), "'.bars'");

        // --out must be a folder: a file there is refused (not replaced).
        var notAFolder = Path.Combine(dir, "notes.txt");
        File.WriteAllText(notAFolder, "keep me");
        var left = Path.Combine(images, "left", "00.png");
        BadInput(Delta("predict", "bars", left, "--out", notAFolder), "--out", notAFolder);
        Assert.Equal("keep me", File.ReadAllText(notAFolder));

        BadInput(Delta("predict", "bars", Path.Combine(images, "left")), Path.Combine(images, "left"), "is a folder");

        // Two inputs with one file name each get a picture of their own (the second does not replace the first).
        var right = Path.Combine(images, "right", "00.png");
        var pred = Path.Combine(dir, "pred");
        var both = Delta("predict", "bars", left, right, "--out", pred);
        Assert.True(both.Code == 0, both.Err);
        var rendered = both.Out.Trim().Split('\n').Select(l => l[(l.LastIndexOf("-> ", StringComparison.Ordinal) + 3)..].Trim()).ToList();
        Assert.Equal([Path.Combine(pred, "00.top5.png"), Path.Combine(pred, "00-2.top5.png")], rendered);
        Assert.All(rendered, r => Assert.True(File.Exists(r), r));
        Assert.NotEqual(File.ReadAllBytes(rendered[0]), File.ReadAllBytes(rendered[1]));

        Assert.Equal(saved, File.ReadAllBytes(patchPath));
        Assert.Contains("bars", Delta("patches", "list").Out);
    }
}
