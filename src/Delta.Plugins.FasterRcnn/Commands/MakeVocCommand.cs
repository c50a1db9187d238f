using System.Globalization;
using Delta.Abstractions.Plugins;
using Delta.Data.Voc;

namespace Delta.Plugins.FasterRcnn.Commands;

/// <summary>`delta make-voc --out DIR [--images N] [--size N] [--seed N]`: writes a synthetic VOC-layout detection
/// dataset (coloured shapes named after VOC classes) to DIR/VOCdevkit/VOC2007, for smoke tests and demos.</summary>
public static class MakeVocCommand
{
    public const string Usage = "delta make-voc --out DIR [--images N (default 200)] [--size N (default 128)] [--seed N (default 0)]";

    public static PluginCommand Command { get; } = new("make-voc",
        "Write a synthetic VOC-layout detection dataset (VOCdevkit/VOC2007) for smoke tests", Usage, (_, args, ct) => Task.FromResult(Run(args, ct)));

    public static int Run(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(Usage); return 0; }
        string? output = null;
        int images = 200, size = 128, seed = 0;
        for (int i = 0; i < args.Count; i++)
        {
            if (i + 1 >= args.Count) return Bad($"'{args[i]}' needs a value.");
            var value = args[++i];
            switch (args[i - 1])
            {
                case "--out": output = value; break;
                case "--images": if (!TryInt(value, 4, 100_000, out images)) return Bad($"--images must be an integer in 4..100000 (got '{value}')."); break;
                case "--size": if (!TryInt(value, 32, 4096, out size)) return Bad($"--size must be an integer in 32..4096 (got '{value}')."); break;
                case "--seed": if (!TryInt(value, 0, int.MaxValue, out seed)) return Bad($"--seed must be a non-negative integer (got '{value}')."); break;
                default: return Bad($"unknown argument '{args[i - 1]}'.");
            }
        }
        if (output is null) return Bad("--out DIR is required.");
        cancellationToken.ThrowIfCancellationRequested();
        var voc = SyntheticVocGenerator.Generate(output, new SyntheticVocOptions(Count: images, Width: size, Height: size, Seed: seed));
        Console.WriteLine($"Wrote {images} synthetic images ({size}x{size}) to {voc}");
        return 0;
    }

    private static bool TryInt(string s, int min, int max, out int value) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    private static int Bad(string message)
    {
        Console.Error.WriteLine($"make-voc: {message}\nUsage: {Usage}");
        return 2;
    }
}
