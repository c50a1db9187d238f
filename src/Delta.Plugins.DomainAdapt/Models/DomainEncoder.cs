using Delta.Abstractions.Backbones;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Models;

/// <summary>
/// An ADDA encoder: images in [0, 1] [N, 3, H, W] → the backbone's pooled features [N, C5].
/// Either a trainable copy of the base (rows without Δ: the whole backbone adapts) or the shared frozen base
/// with its own Δ-modules (rows with Δ(n): only the Δ-modules adapt; the base never changes).
/// </summary>
public sealed class DomainEncoder : IDisposable
{
    public DomainEncoder(IDeltaBackbone backbone)
    {
        Backbone = backbone;
        Backbone.ReturnStages = [];                                        // the encoder reads only the pooled vector
    }

    public IDeltaBackbone Backbone { get; }
    public bool UsesDelta => Backbone.Delta.Stages > 0;
    public int NumFeatures => Backbone.NumFeatures;

    /// <summary>Pooled features [N, C5]; joins the caller's dispose scope.</summary>
    public Tensor Features(Tensor images01)
    {
        using var x = Backbone.Preprocessing.Apply(images01);
        return Backbone.Forward(x).Pooled;
    }

    public static DomainEncoder Create(IBackboneRegistry registry, string architecture, string weights, int deltaStages, long seed, Device device) =>
        new(registry.Create(new BackboneRequest
        {
            Architecture = architecture,
            Weights = weights,
            Device = device,
            Seed = seed,
            Delta = deltaStages > 0 ? new DeltaConfig { Stages = deltaStages } : DeltaConfig.None,
            // Without Δ the encoder itself is what adapts, so it must be a private trainable copy.
            TrainableBase = deltaStages == 0,
        }));

    /// <summary>ADDA's target encoder: a new encoder of the same kind initialised from this one
    /// (Δ rows: the same shared base and a copy of the Δ weights; other rows: a copy of every weight).</summary>
    public DomainEncoder CloneFor(IBackboneRegistry registry, string architecture, string weights, long seed)
    {
        var clone = Create(registry, architecture, weights, Backbone.Delta.Stages, seed, Backbone.Device);
        if (UsesDelta) clone.Backbone.LoadDeltaState(Backbone.DeltaState());
        else
        {
            using var noGrad = no_grad();
            var source = Backbone.Module.state_dict();
            foreach (var (name, t) in clone.Backbone.Module.state_dict()) t.copy_(source[name]);
        }
        return clone;
    }

    public void Dispose() => Backbone.Dispose();
}
