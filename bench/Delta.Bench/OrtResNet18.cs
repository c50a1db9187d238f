using Delta.Abstractions;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace Delta.Bench;

/// <summary>
/// ONNX Runtime on the real ResNet-18's ONNX file, as the CPU suites compare against it: the bench's thread count,
/// one inter-op thread, worker spinning as --ort-spinning says, optionally profiled. Its graph is batch-1, so a batch
/// is B single-image calls on the images of <paramref name="batch"/>.
/// </summary>
internal sealed class OrtResNet18 : IDisposable
{
    private readonly SessionOptions options;
    private readonly InferenceSession session;
    private readonly string input;
    private readonly float[][] images;

    public OrtResNet18(BenchOptions o, Tensor batch, string? profilePrefix = null)
    {
        options = new SessionOptions { IntraOpNumThreads = get_num_threads(), InterOpNumThreads = 1 };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", o.OrtSpinning ? "1" : "0");
        if (profilePrefix is not null) (options.EnableProfiling, options.ProfileOutputPathPrefix) = (true, profilePrefix);
        session = new InferenceSession(AssetPaths.Require(AssetPaths.ResNet18Onnx), options);
        input = session.InputMetadata.Keys.Single();
        images = Enumerable.Range(0, (int)batch.shape[0]).Select(i => batch[i].unsqueeze(0).cpu().contiguous().data<float>().ToArray()).ToArray();
    }

    /// <summary>One single-image call per image of the batch, each output read.</summary>
    public void RunBatch()
    {
        foreach (var image in images)
        {
            using var r = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor(image, [1, 3, 224, 224]))]);
            _ = r.First().AsEnumerable<float>().First();
        }
    }

    /// <summary>Ends profiling; the path of the profile (JSON) ORT wrote.</summary>
    public string EndProfiling() => session.EndProfiling();

    public void Dispose()
    {
        session.Dispose();
        options.Dispose();
    }
}
