using Delta.Abstractions.Plugins;

namespace Delta.Plugins.Classification;

/// <summary>Options of the classification plugin (the job file's "options" section).</summary>
public sealed record ClassificationOptions : ITaskOptions
{
    /// <summary>Side of the square input the backbone sees (images are resized; greyscale becomes RGB).</summary>
    public int ImageSize { get; set; } = 64;
    /// <summary>Dataset layout: auto, idx, mnist-json, optdigits, imagefolder, csv.</summary>
    public string Format { get; set; } = "auto";
    /// <summary>Fraction of each class of the training split to use (the paper's low-data protocol: 0.15, 0.3, 0.5, 1).</summary>
    public double TrainFraction { get; set; } = 1.0;
    /// <summary>At most this many training images per class (0 = no limit); applied after TrainFraction.</summary>
    public int MaxTrainPerClass { get; set; }
    /// <summary>At most this many test images per class (0 = no limit).</summary>
    public int MaxTestPerClass { get; set; }
    /// <summary>Share of the training split held out for validation (early stopping, "best" metric).</summary>
    public double ValidationFraction { get; set; } = 0.1;
    /// <summary>Where a dataset has no test split of its own, this share of each class becomes the test split.</summary>
    public double TestFraction { get; set; } = 0.2;
    public bool HorizontalFlip { get; set; }
    /// <summary>Drop unreadable images (counted and reported) instead of failing on the first one.</summary>
    public bool SkipUnreadable { get; set; }
    /// <summary>Task name recorded in the patch (default: the dataset folder's name).</summary>
    public string? TaskName { get; set; }
    /// <summary>Train a baseline instead of Δ: adapter-series, adapter-parallel or bn-adapt (needs delta.stages 0);
    /// null = Δ-patching (or FC-only at Δ stages 0).</summary>
    public string? Adapter { get; set; }

    public static readonly string[] Formats = ["auto", "idx", "mnist-json", "optdigits", "imagefolder", "csv"];

    public IEnumerable<string> Validate()
    {
        if (ImageSize is < 16 or > 1024) yield return $"options.imageSize must be in 16..1024 (got {ImageSize}).";
        if (!Formats.Contains(Format)) yield return $"options.format '{Format}' is unknown. Valid: {string.Join(", ", Formats)}.";
        if (!(TrainFraction > 0 && TrainFraction <= 1)) yield return $"options.trainFraction must be in (0, 1] (got {TrainFraction}).";
        if (MaxTrainPerClass < 0) yield return $"options.maxTrainPerClass must be ≥ 0 (got {MaxTrainPerClass}).";
        if (MaxTestPerClass < 0) yield return $"options.maxTestPerClass must be ≥ 0 (got {MaxTestPerClass}).";
        if (!(ValidationFraction >= 0 && ValidationFraction < 1)) yield return $"options.validationFraction must be in [0, 1) (got {ValidationFraction}).";
        if (!(TestFraction > 0 && TestFraction < 1)) yield return $"options.testFraction must be in (0, 1) (got {TestFraction}).";
        if (Adapter is not null && !Adapters.AdapterKinds.TryParse(Adapter, out _))
            yield return $"options.adapter '{Adapter}' is unknown. Valid: {string.Join(", ", Adapters.AdapterKinds.Names.Keys)}.";
    }
}
