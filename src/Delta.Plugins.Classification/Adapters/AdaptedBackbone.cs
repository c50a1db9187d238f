using Delta.Abstractions.Backbones;
using TorchSharp;
using Delta.Backbones.Registry;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Adapters;

/// <summary>
/// A residual-adapter (series/parallel) or BN-adaptation view of a backbone, behind the same
/// <see cref="IDeltaBackbone"/> surface as Δ so <c>ClassifierModel</c>, the trainer, checkpoints and patches work
/// unchanged. Unlike Δ it changes the base computation, so it runs on a private copy of the base (the registry's
/// <see cref="BackboneRequest.TrainableBase"/> copy, whose conv weights are frozen again here) and never touches the
/// shared base: the adapters hang on the copy's 3x3 convs as forward hooks, and the copy's BN layers are the task's
/// own (affine parameters train, running statistics update in train mode), as in Rebuffi et al. 2017/2018.
/// <para><see cref="DeltaEnabled"/> = false routes the input through the untouched shared base instead: that is the
/// base task's path, bit-identical to the plain base model. <see cref="DeltaState"/> (what a patch stores) holds the
/// adapters ("adapter.&lt;conv path&gt;.…") and the copy's BN tensors ("bn.&lt;bn path&gt;.…") only — no conv weight.</para>
/// </summary>
public sealed class AdaptedBackbone : IDeltaBackbone
{
    private readonly DeltaBackbone copy;
    private readonly IDeltaBackbone shared;
    private readonly nn.Module adapters;
    private readonly IReadOnlyList<(string Path, nn.Module<Tensor, Tensor> Adapter)> adapterList;
    private readonly IReadOnlyList<(string Path, BatchNorm2d Norm)> norms;
    private bool disposed;

    public AdapterKind Kind { get; }

    private AdaptedBackbone(DeltaBackbone copy, IDeltaBackbone shared, AdapterKind kind)
    {
        this.copy = copy;
        this.shared = shared;
        Kind = kind;
        var named = copy.BaseModel.named_modules().ToList();
        norms = named.Where(m => m.module is BatchNorm2d).Select(m => (m.name, (BatchNorm2d)m.module)).ToList();
        if (norms.Count == 0)
            throw new NotSupportedException($"{AdapterKinds.Name(kind)} needs BatchNorm layers; backbone '{copy.Base.Architecture}' has none.");
        if (kind != AdapterKind.BatchNorm && copy.BaseModel is not global::Delta.Backbones.Architectures.ResNets.ResNet)
            throw new NotSupportedException($"Residual adapters are defined for ResNets (3x3 convs in residual blocks); '{copy.Base.Architecture}' is not one.");

        // Frozen is frozen: in the copy only BN affine parameters train; every conv weight is fixed.
        var bnParameters = norms.SelectMany(n => n.Norm.parameters()).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var p in copy.BaseModel.parameters()) p.requires_grad = bnParameters.Contains(p);

        adapters = new AdapterSet();
        var list = new List<(string, nn.Module<Tensor, Tensor>)>();
        if (kind != AdapterKind.BatchNorm)
            foreach (var (path, module) in named)
            {
                // In a ResNet every 3x3 conv belongs to a residual block (stem 7x7, shortcuts 1x1).
                if (module is not Conv2d conv || conv.kernel_size is not [3, 3]) continue;
                if (conv.stride.Distinct().Count() != 1) throw new NotSupportedException($"{path}: anisotropic stride is not supported by the adapters.");
                nn.Module<Tensor, Tensor> adapter = kind == AdapterKind.Series
                    ? new SeriesAdapter(conv.out_channels)
                    : new ParallelAdapter(conv.in_channels, conv.out_channels, conv.stride[0]);
                adapter.to(copy.Device);
                adapters.register_module(path.Replace('.', '_'), adapter);
                list.Add((path, adapter));
                if (kind == AdapterKind.Series)
                    conv.register_forward_hook((Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>)((_, _, y) => adapter.call(y)));
                else
                    conv.register_forward_hook((Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>)((_, x, y) => y + adapter.call(x)));
            }
        adapterList = list;
        adapters.train(false);
    }

    /// <summary>Builds the adapted view of <paramref name="request"/>'s base (its Δ settings are ignored: no Δ here).</summary>
    public static AdaptedBackbone Create(IBackboneRegistry registry, BackboneRequest request, AdapterKind kind)
    {
        var plain = request with { Delta = DeltaConfig.None, TrainableBase = false };
        var shared = registry.Create(plain);
        try
        {
            var created = registry.Create(plain with { TrainableBase = true });
            if (created is not DeltaBackbone copy)
            {
                created.Dispose();
                throw new NotSupportedException("Adapters need the default backbone registry's private base copy (DeltaBackbone).");
            }
            try { return new AdaptedBackbone(copy, shared, kind); }
            catch { copy.Dispose(); throw; }
        }
        catch { shared.Dispose(); throw; }
    }

    public BaseIdentity Base => copy.Base;
    public DeltaConfig Delta => DeltaConfig.None;
    public IReadOnlyList<FeatureInfo> FeatureInfo => copy.FeatureInfo;
    public int NumFeatures => copy.NumFeatures;
    public IReadOnlyList<string> DeltaStages => [];
    public IReadOnlyDictionary<string, int> BlocksPerDeltaStage { get; } = new Dictionary<string, int>();
    public Device Device => copy.Device;
    public IInputPreprocessing Preprocessing => copy.Preprocessing;
    /// <summary>False: the shared base's own forward (the base task's path).</summary>
    public bool DeltaEnabled { get; set; } = true;
    /// <summary>Adapters have no gates: <see cref="BackboneFeatures.Gates"/> stays null.</summary>
    public bool ReturnGates { get; set; }
    /// <summary>Applies to both routes (the adapted copy and the shared base).</summary>
    public IReadOnlyCollection<string>? ReturnStages
    {
        get => copy.ReturnStages;
        set { copy.ReturnStages = value; shared.ReturnStages = value; }
    }
    public nn.Module Module => adapters;
    /// <summary>Adapters draw nothing at random in forward.</summary>
    public IReadOnlyList<Generator> Generators => [];

    /// <summary>The adapters by the path of the conv they adapt (empty for BN adaptation).</summary>
    public IReadOnlyList<(string Path, nn.Module<Tensor, Tensor> Adapter)> Adapters => adapterList;
    /// <summary>The private base copy the adapters and the task's BN live in (never the shared base).</summary>
    public global::Delta.Backbones.Architectures.StagedBackbone BaseCopy => copy.BaseModel;
    /// <summary>The task's own BatchNorm layers (in the private copy), by path.</summary>
    public IReadOnlyList<(string Path, BatchNorm2d Norm)> Norms => norms;

    public BackboneFeatures Forward(Tensor input)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return DeltaEnabled ? copy.Forward(input) : shared.Forward(input);
    }

    public void Train(bool mode = true)
    {
        copy.Train(mode);        // the copy's BN: batch statistics and running-stat updates in train mode
        adapters.train(mode);
    }

    public IReadOnlyList<Parameter> TrainableParameters =>
        norms.SelectMany(n => n.Norm.parameters()).Concat(adapters.parameters()).Where(p => p.requires_grad).ToList();
    public long TrainableParameterCount => TrainableParameters.Sum(p => p.numel());
    public long FrozenParameterCount => copy.BaseModel.parameters().Where(p => !p.requires_grad).Sum(p => p.numel());

    public IReadOnlyDictionary<string, Tensor> DeltaState()
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, adapter) in adapterList)
            foreach (var (k, t) in adapter.state_dict()) state[$"adapter.{path}.{k}"] = t;
        foreach (var (path, norm) in norms)
            foreach (var (k, t) in norm.state_dict()) state[$"bn.{path}.{k}"] = t;
        return state;
    }

    public void LoadDeltaState(IReadOnlyDictionary<string, Tensor> state)
    {
        var own = DeltaState();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var misShaped = own.Keys.Where(state.ContainsKey).Where(k => !own[k].shape.SequenceEqual(state[k].shape) || own[k].dtype != state[k].dtype)
            .Select(k => $"'{k}' expects [{string.Join(", ", own[k].shape)}] {own[k].dtype} but got [{string.Join(", ", state[k].shape)}] {state[k].dtype}").ToList();
        var problems = new List<string>();
        if (missing.Count > 0) problems.Add($"missing keys: {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? $" (+{missing.Count - 8} more)" : "")}");
        if (unexpected.Count > 0) problems.Add($"unexpected keys: {string.Join(", ", unexpected.Take(8))}{(unexpected.Count > 8 ? $" (+{unexpected.Count - 8} more)" : "")}");
        if (misShaped.Count > 0) problems.Add($"mismatch: {string.Join("; ", misShaped)}");
        if (problems.Count > 0)
            throw new ArgumentException($"{AdapterKinds.Name(Kind)} state does not fit backbone {Base.Architecture}: {string.Join(" | ", problems)}.");
        using var noGrad = no_grad();
        foreach (var (key, target) in own) target.copy_(state[key]);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        adapters.Dispose();
        copy.Dispose();      // the private copy only
        shared.Dispose();    // the view; the shared base itself stays with the registry
    }

    /// <summary>Owner of the adapter modules (registered by conv path with '.' → '_').</summary>
    private sealed class AdapterSet() : nn.Module(nameof(AdapterSet));
}
