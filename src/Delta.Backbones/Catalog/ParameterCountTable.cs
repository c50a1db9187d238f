using Delta.Abstractions.Backbones;
using Delta.Backbones.Delta;

namespace Delta.Backbones.Catalog;

/// <summary>
/// Parameter counts per architecture and Δ-Networks(n), computed by building each architecture once (CPU,
/// default Δ config otherwise): frozen base, Δ-modules, and — to compare with the paper, which counts a
/// head — the Δ-modules plus a 1000-class linear head on the pooled features. For the host's
/// <c>delta backbones</c> listing and docs/backbones.md.
/// </summary>
public static class ParameterCountTable
{
    public sealed record Row(string Architecture, int DeltaStages, long BaseParameters, long DeltaParameters, long Head1000Parameters, double? PaperTrainableMillions)
    {
        public long TotalParameters => BaseParameters + DeltaParameters;
    }

    public static IReadOnlyList<Row> Compute(IEnumerable<string> architectures, IReadOnlyList<int> deltaStages, DeltaConfig? template = null)
    {
        var rows = new List<Row>();
        foreach (var name in architectures)
        {
            var entry = BackboneCatalog.Get(name);
            using var model = entry.Build(32);
            var baseCount = model.parameters().Sum(p => p.numel());
            var head = (long)model.NumFeatures * 1000 + 1000;
            foreach (var n in deltaStages)
            {
                var config = (template ?? new DeltaConfig()) with { Stages = n };
                var stages = DeltaStageFactory.Build(model, config);
                var deltaCount = stages.Sum(s => s.parameters().Sum(p => p.numel()));
                foreach (var s in stages) s.Dispose();
                rows.Add(new Row(entry.Info.Name, n, baseCount, deltaCount, head, PaperTable2.TrainableMillions(entry.Info.Name, n)));
            }
        }
        return rows;
    }
}
