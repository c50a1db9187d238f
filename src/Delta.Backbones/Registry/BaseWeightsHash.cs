using System.Security.Cryptography;
using System.Text;
using TorchSharp;

namespace Delta.Backbones.Registry;

/// <summary>Identity of a base model's weights: SHA-256 over its state dict (parameters and buffers), keys in
/// ordinal order, each contributing its UTF-8 key bytes then its contiguous CPU tensor bytes.</summary>
public static class BaseWeightsHash
{
    public static string Compute(torch.nn.Module model)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, value) in model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(key));
            // Each key's detached / host / contiguous intermediates are freed here: for a CUDA model they are host
            // copies of every weight, which would otherwise live on until the GC or the caller's scope.
            using var scope = torch.NewDisposeScope();
            sha.AppendData(value.detach().cpu().contiguous().bytes);
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
