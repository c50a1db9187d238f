using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Abstractions.Backbones;

/// <summary>
/// A task's view of a backbone: the shared frozen base (one instance per architecture+weights in the
/// process, always in eval mode, never in any optimizer) plus this task's own Δ-modules.
/// <para>Contract:</para>
/// <list type="bullet">
/// <item><see cref="Forward"/> maps an input [N, 3, H, W] (already preprocessed, see
/// <see cref="Preprocessing"/>) to <see cref="BackboneFeatures"/>.</item>
/// <item><see cref="DeltaEnabled"/> = false bypasses every Δ-module: the outputs are then
/// bit-identical to the plain base model's.</item>
/// <item><see cref="TrainableParameters"/> are the Δ parameters only (plus the base's, when the
/// request asked for <see cref="BackboneRequest.TrainableBase"/>). Feed only these to an optimizer.</item>
/// <item><see cref="DeltaState"/> names the tensors a patch stores for the backbone part
/// (Δ weights and their BN buffers); <see cref="LoadDeltaState"/> puts them back, strictly.</item>
/// </list>
/// </summary>
public interface IDeltaBackbone : IDisposable
{
    BaseIdentity Base { get; }
    DeltaConfig Delta { get; }
    IReadOnlyList<FeatureInfo> FeatureInfo { get; }
    /// <summary>Channels of <see cref="BackboneFeatures.Pooled"/> (512 for ResNet-18, 2048 for ResNet-50, 768 for ConvNeXt-T).</summary>
    int NumFeatures { get; }
    /// <summary>Stage names that carry Δ-modules, e.g. ["C5"] for Δ(1).</summary>
    IReadOnlyList<string> DeltaStages { get; }
    /// <summary>Sub-blocks per Δ-augmented stage (k); the stage has k(k+1)/2 gates.</summary>
    IReadOnlyDictionary<string, int> BlocksPerDeltaStage { get; }
    Device Device { get; }
    IInputPreprocessing Preprocessing { get; }

    bool DeltaEnabled { get; set; }
    /// <summary>When true, <see cref="BackboneFeatures.Gates"/> is filled.</summary>
    bool ReturnGates { get; set; }
    /// <summary>The stages whose outputs <see cref="Forward"/> puts in <see cref="BackboneFeatures.Stages"/>: null (the
    /// default) for every stage, empty for none (a task that reads only <see cref="BackboneFeatures.Pooled"/>). An
    /// output nobody asked for is neither converted to fp32 (fast mode) nor kept until the caller's scope ends, so it
    /// costs no memory beyond what autograd itself saves — like torchvision's feature extractors, which return only
    /// the requested nodes. Setting an unknown stage name throws, naming the stages there are.</summary>
    IReadOnlyCollection<string>? ReturnStages { get; set; }

    BackboneFeatures Forward(Tensor input);

    /// <summary>Train/eval mode of the Δ-modules (and of the base only when it is a trainable copy).
    /// The shared base's BatchNorm always stays in eval.</summary>
    void Train(bool mode = true);

    IReadOnlyList<TorchSharp.Modules.Parameter> TrainableParameters { get; }
    long TrainableParameterCount { get; }
    long FrozenParameterCount { get; }

    IReadOnlyDictionary<string, Tensor> DeltaState();
    void LoadDeltaState(IReadOnlyDictionary<string, Tensor> state);

    /// <summary>Generators the Δ-modules draw from in <see cref="Forward"/> (the random-gates ablation; empty for
    /// every other variant), on <see cref="Device"/>. A training loop hands them to the trainer
    /// (<see cref="Training.TrainLoop{TBatch}.Generators"/>) so that checkpoints carry their states.</summary>
    IReadOnlyList<Generator> Generators { get; }

    /// <summary>The module that owns the Δ-modules (and the base, for a trainable copy), for
    /// hooks, <c>to(device)</c> and inspection.</summary>
    nn.Module Module { get; }
}
