using Delta.Backbones.Architectures;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Delta.Backbones.Delta;

/// <summary>
/// The module a task owns: its Δ-stages by stage name ("delta.C5.gates.conv1.weight", …) and, only for a
/// full fine-tuning baseline, a private trainable copy of the base ("base.conv1.weight", …). The shared
/// frozen base is deliberately NOT a child: parameters(), state_dict(), train() and to() of this module
/// never reach it.
/// </summary>
public sealed class DeltaTaskModule : nn.Module
{
    private readonly ModuleDict<DeltaStage> delta;
    [ComponentName(Name = "base")]
    private readonly StagedBackbone? trainableBase;
    private readonly IReadOnlyDictionary<string, DeltaStage> byName;

    public DeltaTaskModule(IReadOnlyList<DeltaStage> stages, StagedBackbone? trainableBase) : base(nameof(DeltaTaskModule))
    {
        delta = new ModuleDict<DeltaStage>();
        foreach (var s in stages) delta.Add(s.Stage.Name, s);
        this.trainableBase = trainableBase;
        RegisterComponents();
        byName = stages.ToDictionary(s => s.Stage.Name);
    }

    public IReadOnlyDictionary<string, DeltaStage> Stages => byName;
    public StagedBackbone? TrainableBase => trainableBase;
}
