using Delta.Backbones.Weights.Onnx;

namespace Delta.Backbones.Weights.Cntk;

/// <summary>
/// Checks <see cref="CntkResNet18Mapping"/> against the ONNX graph itself, so that a different or re-exported
/// file fails with a message instead of loading weights into the wrong layers. Shapes alone cannot catch
/// every swap (conv1 and conv2 of a block in layer2–4 have the same shape), the graph's wiring can:
/// <list type="bullet">
/// <item>every mapped conv weight is input 1 (W) of exactly one Conv node;</item>
/// <item>the four tensors of each mapped BatchNorm are inputs 1–4 (scale, B, mean, var) of one
/// BatchNormalization node, in that order;</item>
/// <item>that BatchNormalization reads (input 0) the output of the Conv mapped to its partner
/// (bn1 ← conv1, bn2 ← conv2, downsample.1 ← downsample.0);</item>
/// <item>every float initializer of the graph is used by the mapping (nothing left behind).</item>
/// </list>
/// </summary>
public static class CntkGraphCheck
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming the file and the first problems found.</summary>
    public static void Validate(OnnxModel model)
    {
        var problems = Problems(model, CntkResNet18Mapping.TorchToOnnx).ToList();
        if (problems.Count > 0)
            throw new InvalidDataException($"{model.Path}: the graph does not match the CNTK ResNet-18 mapping — " +
                string.Join("; ", problems.Take(6)) + (problems.Count > 6 ? $"; … (+{problems.Count - 6} more)" : "") + ".");
    }

    /// <summary>Everything wrong with <paramref name="map"/> (torchvision key → initializer) on this graph; empty when it fits.</summary>
    public static IReadOnlyList<string> Problems(OnnxModel model, IReadOnlyDictionary<string, string> map)
    {
        var consumers = new Dictionary<string, List<(OnnxNode Node, int Index)>>(StringComparer.Ordinal);
        var producer = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in model.Nodes)
        {
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                if (!consumers.TryGetValue(node.Inputs[i], out var list)) consumers[node.Inputs[i]] = list = [];
                list.Add((node, i));
            }
            foreach (var o in node.Outputs) producer[o] = node;
        }

        OnnxNode? SoleConsumer(string torchKey, string op, int index, List<string> problems)
        {
            if (!map.TryGetValue(torchKey, out var name)) { problems.Add($"{torchKey} is not mapped"); return null; }
            if (!model.Initializers.ContainsKey(name)) { problems.Add($"'{name}' ({torchKey}) is not a float initializer"); return null; }
            var uses = consumers.GetValueOrDefault(name) ?? [];
            if (uses.Count != 1 || uses[0].Node.OpType != op || uses[0].Index != index)
            {
                var found = uses.Count == 0 ? "unused" : string.Join(", ", uses.Select(u => $"{u.Node.OpType} input {u.Index}"));
                problems.Add($"'{name}' ({torchKey}) should be input {index} of one {op} node, found {found}");
                return null;
            }
            return uses[0].Node;
        }

        var errors = new List<string>();
        foreach (var (conv, bn) in CntkResNet18Mapping.ConvBnPairs)
        {
            var convNode = SoleConsumer(conv + ".weight", "Conv", 1, errors);
            var bnNodes = new[] { "weight", "bias", "running_mean", "running_var" }
                .Select((suffix, i) => SoleConsumer($"{bn}.{suffix}", "BatchNormalization", i + 1, errors)).ToList();
            if (bnNodes.Any(n => n is null) || convNode is null) continue;
            if (bnNodes.Distinct().Count() != 1)
            {
                errors.Add($"the four tensors of {bn} belong to different BatchNormalization nodes");
                continue;
            }
            var bnNode = bnNodes[0]!;
            if (bnNode.Inputs.Count == 0 || !producer.TryGetValue(bnNode.Inputs[0], out var feeding) || !ReferenceEquals(feeding, convNode))
                errors.Add($"{bn} (node '{bnNode.Name}') does not read the output of {conv} (node '{convNode.Name}')");
        }
        var used = map.Values.ToHashSet(StringComparer.Ordinal);
        var unused = model.Initializers.Keys.Where(k => !used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (unused.Count > 0) errors.Add($"initializers not covered by the mapping: {string.Join(", ", unused.Take(8))}");
        return errors;
    }
}
