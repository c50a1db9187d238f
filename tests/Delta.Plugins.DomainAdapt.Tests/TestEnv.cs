using System.Security.Cryptography;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Patches;
using Delta.Backbones.Registry;
using Delta.Host.Training;
using Delta.Plugins.DomainAdapt.Data;
using Delta.Plugins.DomainAdapt.Models;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Tests;

/// <summary>A temp folder, the real backbone registry (the test-size <see cref="Arch"/> with seeded random weights),
/// a real task context and small generated digit-like domains.</summary>
public sealed class TestEnv : IDisposable
{
    public const string Arch = "tiny_resnet";
    public string Dir { get; } = Directory.CreateTempSubdirectory("delta-da-").FullName;
    public BackboneRegistry Registry { get; } = BackboneRegistry.CreateDefault();

    public TaskContext Context() => new()
    {
        Backbones = Registry, Device = CPU, Logger = NullLogger.Instance, DataRoot = Dir, OutputRoot = Dir,
        Patches = new PatchStore(Path.Combine(Dir, "patches")), Trainer = new Trainer(),
    };

    /// <summary>Eval-mode logits of encoder + classifier on <paramref name="images"/>, for bit-exact before/after checks.</summary>
    public static Tensor Logits(DomainEncoder encoder, SourceClassifier classifier, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        encoder.Backbone.Train(false);
        classifier.eval();
        return classifier.call(encoder.Features(images)).MoveToOuterDisposeScope();
    }

    public DomainEncoder Encoder(int deltaStages, int seed = 0) => DomainEncoder.Create(Registry, Arch, "random", deltaStages, seed, CPU);

    /// <summary>A generated domain: class c is a bright 4x4 square at a class-specific place on noise. <paramref name="shift"/>
    /// changes the look (background level and contrast) but not the classes: a second domain with a real gap.</summary>
    public static LabelledImages Domain(string name, int classes, int perClass, int seed, float shift = 0, int size = 16)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed);
        var n = classes * perClass;
        var images = rand(new long[] { n, 3, size, size }, generator: gen) * 0.3f + shift;
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            var c = i % classes;
            labels[i] = c;
            var x = (c * 5) % (size - 4); var y = (c * 3) % (size - 4);
            images[i, .., y..(y + 4), x..(x + 4)] = ones(3, 4, 4) * (0.9f - shift);
        }
        return new LabelledImages(name, images.clamp(0, 1).MoveToOuterDisposeScope(), tensor(labels, dtype: ScalarType.Int64).MoveToOuterDisposeScope());
    }

    /// <summary>SHA-256 over the tensors' bytes in the given order: equal hashes = bit-identical values.</summary>
    public static string Hash(IEnumerable<Tensor> tensors)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in tensors)
        {
            using var c = t.detach().cpu().contiguous();
            sha.AppendData(c.bytes);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>Hash of a module's whole state (parameters and buffers), keys in ordinal order.</summary>
    public static string StateHash(TorchSharp.torch.nn.Module module) =>
        Hash(module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value));

    public void Dispose() { Registry.Dispose(); Directory.Delete(Dir, recursive: true); }
}
