using System.CommandLine;
using System.Globalization;
using Delta.Abstractions.Backbones;
using Delta.Backbones.Catalog;

namespace Delta.Host.Cli;

/// <summary>`delta backbones`: every architecture with total / frozen / trainable parameter counts for Δ(1), Δ(2), Δ(4)
/// beside the paper's Table 2 (which counts the head too; see docs/backbones.md for the differences).</summary>
public static class BackbonesVerb
{
    public static readonly int[] Stages = [1, 2, 4];

    public static Command Create(CliApp app)
    {
        var cmd = new Command("backbones", "List backbone architectures with frozen/trainable parameter counts for Δ(1), Δ(2), Δ(4)");
        cmd.SetAction((parse, ct) => app.Guard(() =>
        {
            var registry = app.Env.Registry;
            var rows = new List<(BackboneInfo Arch, int N, long Base, long Delta, double? Paper)>();
            foreach (var arch in registry.Architectures)
                foreach (var n in Stages)
                {
                    var (b, d) = registry.CountParameters(arch.Name, new DeltaConfig { Stages = n });
                    rows.Add((arch, n, b, d, PaperTable2.TrainableMillions(arch.Name, n)));
                }
            if (parse.GetValue(CliApp.JsonOption))
            {
                Output.WriteJson(rows.Select(r => new
                {
                    architecture = r.Arch.Name, family = r.Arch.Family, blocks = r.Arch.BlocksPerStage, pretrained = r.Arch.PretrainedWeights,
                    delta = r.N, total = r.Base + r.Delta, frozen = r.Base, trainable = r.Delta, paperTrainableMillions = r.Paper,
                }));
                return Task.FromResult(ExitCodes.Ok);
            }
            static string M(long v) => (v / 1e6).ToString("F3", CultureInfo.InvariantCulture) + "M";
            Output.WriteTable(["architecture", "blocks", "pretrained", "Δ", "total", "frozen", "trainable (Δ only)", "paper (incl. head)"],
                rows.Select(r => (IReadOnlyList<string>)[r.Arch.Name, string.Join(",", r.Arch.BlocksPerStage), r.Arch.PretrainedWeights.Count == 0 ? "-" : string.Join(",", r.Arch.PretrainedWeights),
                    $"Δ({r.N})", M(r.Base + r.Delta), M(r.Base), M(r.Delta), r.Paper is { } p ? p.ToString("F1", CultureInfo.InvariantCulture) + "M" : "-"]));
            Console.Out.WriteLine();
            Console.Out.WriteLine("Trainable counts are the Δ-modules alone; a task adds its head (e.g. 512·C + C for a linear head on ResNet-18).");
            Console.Out.WriteLine("The paper's Table 2 counts include the head; docs/backbones.md explains the remaining differences.");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return cmd;
    }
}
