using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Backbones.Weights.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Weights.Cntk;

/// <summary>
/// "imagenet" for resnet18_cntk: the real ImageNet-pretrained ResNet-18 shipped as ONNX in NuGet
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (fetched by ./delta setup into the asset cache), read with
/// Delta's own protobuf reader and mapped by <see cref="CntkResNet18Mapping"/>. The mapping is checked against the
/// graph's wiring (<see cref="CntkGraphCheck"/>) and the shapes against the model; BatchNorm's num_batches_tracked (not in ONNX) is set to 0.
/// </summary>
public sealed class ImagenetOnnxWeights : IBaseWeightsSource
{
    public const string Architecture = "resnet18_cntk";
    public const string WeightsName = "imagenet";
    public const string PreprocessOnnx = "resnet18/ResNetPreprocess.onnx";

    public string Description => $"'{WeightsName}' for {Architecture} (ImageNet ResNet-18 from NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18, ONNX)";

    public bool CanLoad(string weights, BackboneInfo arch) =>
        string.Equals(weights, WeightsName, StringComparison.OrdinalIgnoreCase) && arch.Name == Architecture;

    public IInputPreprocessing Load(nn.Module baseModel, string weights, BackboneInfo arch)
    {
        var path = AssetPaths.Require(AssetPaths.ResNet18Onnx);
        var onnx = OnnxModel.Load(path);
        CntkGraphCheck.Validate(onnx);
        var state = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (key, target) in baseModel.state_dict())
            {
                if (key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) { state[key] = zeros_like(target); continue; }
                if (!CntkResNet18Mapping.TorchToOnnx.TryGetValue(key, out var name))
                    throw new InvalidDataException($"{path}: no ONNX initializer is mapped to model key '{key}'.");
                if (!onnx.Initializers.TryGetValue(name, out var init))
                    throw new InvalidDataException($"{path}: initializer '{name}' (for '{key}') is missing from the model.");
                state[key] = tensor(init.Values, init.Dims, dtype: ScalarType.Float32);
            }
            StateDictMatcher.LoadStrict(baseModel, state, path);
        }
        finally { foreach (var t in state.Values) t.Dispose(); }
        return LoadPreprocessing();
    }

    /// <summary>The preprocessing defined by ResNetPreprocess.onnx (its MeanImage initializer, BGR order).</summary>
    public static CntkResNetPreprocessing LoadPreprocessing()
    {
        var path = AssetPaths.Require(PreprocessOnnx);
        var model = OnnxModel.Load(path);
        if (!model.Initializers.TryGetValue("MeanImage", out var mean))
            throw new InvalidDataException($"{path}: no 'MeanImage' initializer.");
        return new CntkResNetPreprocessing(mean.Values);
    }
}
