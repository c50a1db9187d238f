using Delta.Abstractions.Backbones;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>
/// One row of the transfer table (paper Table 5): how the backbone is adapted and which loss trains it.
/// <see cref="FineTunesBackbone"/> = a private trainable copy of the base (no zero-drop guarantee);
/// otherwise the shared base stays frozen and only <see cref="DeltaStages"/> Δ-modules and the heads train.
/// </summary>
public sealed record TransferMethod(string Id, string Name, bool FineTunesBackbone, int DeltaStages, bool BiTuning)
{
    public static readonly TransferMethod FineTune = new("finetune", "Vanilla fine-tuning", true, 0, false);
    public static readonly TransferMethod BiTuningFull = new("bituning", "Bi-Tuning", true, 0, true);
    public static readonly TransferMethod Delta4 = new("delta4", "Δ-Networks(4)", false, 4, false);
    public static readonly TransferMethod BiTuningDelta4 = new("bituning-delta4", "Bi-Tuning + Δ-Networks(4)", false, 4, true);

    public static readonly IReadOnlyList<TransferMethod> PaperRows = [FineTune, BiTuningFull, Delta4, BiTuningDelta4];

    public DeltaConfig Delta => DeltaStages == 0 ? DeltaConfig.None : new DeltaConfig { Stages = DeltaStages };

    /// <summary>What the optimizer sees (and what the key encoder follows), in words for the table.</summary>
    public string WhatTrains => (FineTunesBackbone, BiTuning) switch
    {
        (true, false) => "all backbone weights + head (fine-tunes backbone weights, no zero-drop guarantee)",
        (true, true) => "all backbone weights + head + projector; key encoder = momentum copy of all of them (fine-tunes backbone weights, no zero-drop guarantee)",
        (false, false) => $"Δ-modules ({DeltaStages} stages) + head; base frozen",
        (false, true) => $"Δ-modules ({DeltaStages} stages) + head + projector; key encoder = momentum copy of those; base frozen",
    };

    /// <summary>"finetune", "bituning", "deltaN", "bituning-deltaN" (N = 1..4).</summary>
    public static TransferMethod Parse(string id)
    {
        var known = PaperRows.FirstOrDefault(m => m.Id.Equals(id, StringComparison.OrdinalIgnoreCase));
        if (known is not null) return known;
        var bi = id.StartsWith("bituning-", StringComparison.OrdinalIgnoreCase);
        var rest = bi ? id["bituning-".Length..] : id;
        if (rest.StartsWith("delta", StringComparison.OrdinalIgnoreCase) && int.TryParse(rest[5..], out var n) && n is >= 1 and <= 4)
            return new TransferMethod(id.ToLowerInvariant(), bi ? $"Bi-Tuning + Δ-Networks({n})" : $"Δ-Networks({n})", false, n, bi);
        throw new ArgumentException($"Unknown transfer method '{id}'. Valid: finetune, bituning, deltaN, bituning-deltaN (N = 1..4).");
    }
}
