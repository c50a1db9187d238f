using Delta.Abstractions.Backbones;
using Delta.Data.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace RotationPlugin;

/// <summary>
/// Self-supervised labels: every image appears four times, rotated by 0°, 90°, 180° and 270° (label 0..3).
/// Images are read once, resized to a square and preprocessed for the backbone; the rotations are made per batch.
/// </summary>
public sealed class RotationData : IDisposable
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];
    public static readonly string[] ClassNames = ["0", "90", "180", "270"];

    /// <summary>[N, 3, S, S], preprocessed for the backbone, on the backbone's device.</summary>
    public Tensor Images { get; }
    public IReadOnlyList<string> Files { get; }

    private RotationData(Tensor images, IReadOnlyList<string> files) { Images = images; Files = files; }

    public static IReadOnlyList<string> FindImages(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Dataset folder not found: {folder}");
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InvalidDataException($"{folder}: no images ({string.Join(", ", Extensions)}) found.");
        return files;
    }

    public static RotationData Load(IReadOnlyList<string> files, int size, IInputPreprocessing preprocessing, Device device)
    {
        using var scope = NewDisposeScope();
        var images = files.Select(f => Resize(ImageCodec.ReadRgb(f), size)).ToArray();
        var batch = preprocessing.Apply(stack(images).to(device));
        return new RotationData(batch.MoveToOuterDisposeScope(), files);
    }

    public static Tensor Resize(Tensor chw, int size) =>
        nn.functional.interpolate(chw.unsqueeze(0), size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);

    /// <summary>The four rotations of <paramref name="images"/> [B, 3, S, S] → ([4B, 3, S, S], labels [4B]).</summary>
    public static (Tensor Images, Tensor Labels) Rotations(Tensor images)
    {
        var b = images.shape[0];
        var rotated = cat([images, images.rot90(1, (2, 3)), images.rot90(2, (2, 3)), images.rot90(3, (2, 3))], 0);
        var labels = arange(4, dtype: ScalarType.Int64, device: images.device).repeat_interleave(b);
        return (rotated, labels);
    }

    public void Dispose() => Images.Dispose();
}

/// <summary>One step's input: four rotations of a few images and their labels.</summary>
public sealed class RotationBatch(Tensor images, Tensor labels) : IDisposable
{
    public Tensor Images { get; } = images;
    public Tensor Labels { get; } = labels;
    public void Dispose() { Images.Dispose(); Labels.Dispose(); }
}
