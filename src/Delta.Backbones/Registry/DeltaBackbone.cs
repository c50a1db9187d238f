using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;
using Delta.Backbones.Delta;
using Delta.Backbones.Precision;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Registry;

/// <summary>
/// A task's Δ-backbone: a base (the registry's shared frozen instance, or a private trainable copy) plus this
/// task's <see cref="DeltaTaskModule"/>. See <see cref="IDeltaBackbone"/> for the contract.
/// <para>Ownership: owns its task module and generators; on a frozen base it also owns a <see cref="BaseLease"/>, so the
/// shared base and its derived copy live at least as long as this backbone, even after the registry evicted the base.
/// Dispose gives the lease back.</para>
/// </summary>
public sealed class DeltaBackbone : IDeltaBackbone
{
    private readonly StagedBackbone baseModel;
    private readonly DeltaTaskModule module;
    private readonly bool baseFrozen;
    private readonly StagedBackbone? frozenCopy;
    private readonly FrozenCopyKind copyKind;
    private readonly long frozenParameterCount;
    private readonly BaseLease? baseLease;
    private bool disposed;

    internal DeltaBackbone(SharedBase shared, BaseLease? baseLease, StagedBackbone baseModel, bool baseFrozen, DeltaTaskModule module, DeltaConfig delta, Device device,
        StagedBackbone? frozenCopy = null, FrozenCopyKind? copyKind = null, IReadOnlyList<Generator>? generators = null)
    {
        Generators = generators ?? [];
        this.copyKind = copyKind ?? FrozenCopyKind.Exact;
        if ((frozenCopy is null) != this.copyKind.IsExact)
            throw new ArgumentException("A derived copy goes with a non-exact copy kind, and only with one.");
        if (baseFrozen && baseLease?.Base != shared)
            throw new ArgumentException("A backbone on the frozen shared base holds a lease on that base.");
        this.baseLease = baseLease;
        this.frozenCopy = frozenCopy;
        this.baseModel = baseModel;
        this.baseFrozen = baseFrozen;
        this.module = module;
        Base = shared.Identity;
        Delta = delta;
        Device = device;
        Preprocessing = shared.Preprocessing;
        FeatureInfo = baseModel.FeatureInfo;
        NumFeatures = baseModel.NumFeatures;
        DeltaStages = module.Stages.Keys.ToList();
        BlocksPerDeltaStage = module.Stages.ToDictionary(kv => kv.Key, kv => kv.Value.Blocks);
        frozenParameterCount = baseFrozen ? shared.ParameterCount : 0;
    }

    public BaseIdentity Base { get; }
    public DeltaConfig Delta { get; }
    public IReadOnlyList<FeatureInfo> FeatureInfo { get; }
    public int NumFeatures { get; }
    public IReadOnlyList<string> DeltaStages { get; }
    public IReadOnlyDictionary<string, int> BlocksPerDeltaStage { get; }
    public Device Device { get; }
    public IInputPreprocessing Preprocessing { get; }
    public bool DeltaEnabled { get; set; } = true;
    public bool ReturnGates { get; set; }

    private HashSet<string>? returnStages;

    public IReadOnlyCollection<string>? ReturnStages
    {
        get => returnStages;
        set
        {
            if (value is not null)
            {
                var known = FeatureInfo.Select(f => f.Name).ToList();
                var unknown = value.Where(s => !known.Contains(s)).ToList();
                if (unknown.Count > 0)
                    throw new ArgumentException($"No stage {string.Join(", ", unknown.Select(s => $"'{s}'"))} in {Base.Architecture}: its stages are {string.Join(", ", known)}.", nameof(value));
            }
            returnStages = value is null ? null : [.. value];
        }
    }

    private bool Returns(string stage) => returnStages is null || returnStages.Contains(stage);
    public nn.Module Module => module;

    /// <summary>Owned: disposed with the backbone.</summary>
    public IReadOnlyList<Generator> Generators { get; }

    /// <summary>Float32 or BFloat16 (fast mode); with <see cref="ChannelsLast"/> and <see cref="FoldBatchNorm"/> it says
    /// which copy of the base the frozen part runs on (<see cref="FrozenCopy"/>).</summary>
    public BackbonePrecision Precision => copyKind.Precision;
    /// <summary>The shared derived copy of the base (bf16, channels-last and/or folded BNs) the frozen part runs on;
    /// null in the exact mode, where it runs on <see cref="BaseModel"/> itself.</summary>
    public StagedBackbone? FrozenCopy => frozenCopy;
    public bool ChannelsLast => copyKind.ChannelsLast;
    public bool FoldBatchNorm => copyKind.FoldBatchNorm;
    /// <summary>What the Δ_s convolutions compute in (their parameters are fp32 either way).</summary>
    public BackbonePrecision DeltaConvolutions => module.Stages.Values.Select(s => s.Gates).OfType<DeltaGates>()
        .Any(g => g.ConvolutionDType == ScalarType.BFloat16) ? BackbonePrecision.BFloat16 : BackbonePrecision.Float32;
    /// <summary>What the Δ-stages' gated skip sums and their BNs compute in (<see cref="BackboneRequest.DeltaSkipSums"/>).</summary>
    public BackbonePrecision DeltaSkipSums => module.Stages.Values.Any(s => s.SkipSumDType == ScalarType.BFloat16)
        ? BackbonePrecision.BFloat16 : BackbonePrecision.Float32;
    /// <summary>True in the exact mode: Δ disabled gives the base model bit for bit.</summary>
    public bool IsExact => frozenCopy is null;

    /// <summary>The base this task runs on (shared frozen instance, or the private trainable copy).</summary>
    public StagedBackbone BaseModel => baseModel;
    public bool BaseIsShared => baseFrozen;

    public IReadOnlyList<Parameter> TrainableParameters => module.parameters().Where(p => p.requires_grad).ToList();
    public long TrainableParameterCount => TrainableParameters.Sum(p => p.numel());
    public long FrozenParameterCount => frozenParameterCount;

    /// <summary>
    /// Outside the exact mode the frozen stem and stages run on the derived copy (input cast and laid out once to
    /// match it); each Δ-stage keeps its arithmetic in fp32 (see <see cref="DeltaStage.Forward(Tensor, BackboneStage, out Tensor)"/>),
    /// and every stage output handed to the task is fp32, so heads never see bf16. Δ disabled then gives the copy's
    /// function, not the exact base's: the bit-identity guarantee belongs to the exact mode.
    /// </summary>
    public BackboneFeatures Forward(Tensor input)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (input.dim() != 4 || input.shape[1] != 3)
            throw new ArgumentException($"Backbone input must be [N, 3, H, W], got [{string.Join(", ", input.shape)}].");
        using var scope = NewDisposeScope();
        var run = frozenCopy ?? baseModel;
        var stages = run.Stages;
        var deltaByName = module.Stages;
        // Stages before the first Δ stage have nothing to train when the base is frozen: run them without
        // autograd (no graph, no saved activations). Results are bit-identical either way.
        var firstDelta = DeltaEnabled
            ? Enumerable.Range(0, stages.Count).FirstOrDefault(s => deltaByName.ContainsKey(stages[s].Name), stages.Count)
            : stages.Count;
        var outputs = new Dictionary<string, Tensor>();
        var gates = ReturnGates && DeltaEnabled ? new Dictionary<string, Tensor>() : null;

        Tensor h, output = null!;               // h: the next stage's input; output: the latest stage's (fp32 after a Δ stage)
        using (baseFrozen ? no_grad() : null)
        {
            h = run.ForwardStem(frozenCopy is null ? input : FrozenBaseCopy.Convert(input, copyKind.DType, copyKind.ChannelsLast));
            for (int s = 0; s < firstDelta; s++)
            {
                output = h = stages[s].ForwardPlain(h);
                if (Returns(stages[s].Name)) outputs[stages[s].Name] = ToFloat32(output);
            }
        }
        for (int s = firstDelta; s < stages.Count; s++)
        {
            var stage = stages[s];
            if (deltaByName.TryGetValue(stage.Name, out var deltaStage))
            {
                output = deltaStage.Forward(h, stage, out var lambda);          // fp32
                h = output.dtype == copyKind.DType ? output : output.to_type(copyKind.DType);
                if (gates is not null) gates[stage.Name] = lambda;
            }
            else output = h = stage.ForwardPlain(h);
            if (Returns(stage.Name)) outputs[stage.Name] = ToFloat32(output);
        }
        // Pooling (ConvNeXt: with its pretrained LayerNorm) always runs on the fp32 base, on the fp32 last output
        // (the returned one when the task asked for it, so it is converted once).
        var pooled = baseModel.Pool(outputs.TryGetValue(stages[^1].Name, out var returned) ? returned : ToFloat32(output));

        foreach (var t in outputs.Values) t.MoveToOuterDisposeScope();
        if (gates is not null) foreach (var t in gates.Values) t.MoveToOuterDisposeScope();
        return new BackboneFeatures(outputs, pooled.MoveToOuterDisposeScope(), gates);
    }

    private static Tensor ToFloat32(Tensor t) => t.dtype == ScalarType.Float32 ? t : t.to_type(ScalarType.Float32);

    public void Train(bool mode = true)
    {
        module.train(mode);
        // The shared base is not a child of module, so it is untouched; assert the invariant anyway.
        if (baseFrozen && baseModel.training) baseModel.eval();
    }

    /// <summary>The task module's live state tensors (like PyTorch's state_dict: aliases, not copies), keyed
    /// "delta.&lt;stage&gt;.…" and, for a trainable base copy, "base.…". Never contains the shared base.</summary>
    public IReadOnlyDictionary<string, Tensor> DeltaState() => module.state_dict();

    public void LoadDeltaState(IReadOnlyDictionary<string, Tensor> state)
    {
        var own = module.state_dict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var misShaped = own.Keys.Where(state.ContainsKey)
            .Where(k => !own[k].shape.SequenceEqual(state[k].shape))
            .Select(k => $"'{k}' expects [{string.Join(", ", own[k].shape)}] but got [{string.Join(", ", state[k].shape)}]")
            .ToList();
        // Every check before the first copy: a refused state must leave this backbone's Δ state as it was.
        var misTyped = own.Keys.Where(state.ContainsKey)
            .Where(k => own[k].dtype != state[k].dtype)
            .Select(k => $"'{k}' expects {own[k].dtype} but got {state[k].dtype}")
            .ToList();
        var problems = new List<string>();
        if (missing.Count > 0) problems.Add($"missing keys: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected keys: {string.Join(", ", unexpected)}");
        if (misShaped.Count > 0) problems.Add($"shape mismatch: {string.Join("; ", misShaped)}");
        if (misTyped.Count > 0) problems.Add($"dtype mismatch: {string.Join("; ", misTyped)}");
        if (problems.Count > 0)
            throw new ArgumentException($"Δ state does not fit this backbone ({Base.Architecture}, Δ stages {string.Join(",", DeltaStages)}): {string.Join(" | ", problems)}.");
        using var noGrad = no_grad();
        foreach (var (key, target) in own) target.copy_(state[key]);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        module.Dispose();   // Δ-modules and a private base copy; never the shared base
        foreach (var g in Generators) g.Dispose();
        baseLease?.Dispose();   // the shared base itself is freed only with its last reference
    }
}
