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
            using var cpu = value.detach().cpu().contiguous();
            sha.AppendData(cpu.bytes);
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
