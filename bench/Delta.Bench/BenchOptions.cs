namespace Delta.Bench;

/// <summary>Sizes of a bench run. CPU defaults are small enough to finish in minutes; pass the sizes (batch 128, 224) on a GPU.</summary>
public sealed record BenchOptions
{
    public int InferenceBatch { get; init; } = 8;
    public int TrainBatch { get; init; } = 16;
    public int TrainSize { get; init; } = 128;
    public int TrainSteps { get; init; } = 5;
    public int Repeats { get; init; } = 7;
    /// <summary>How the Delta side of the inference suite disables autograd: "inference" (inference_mode) or "nograd" (no_grad).</summary>
    public string GradMode { get; init; } = "inference";
    /// <summary>ONNX Runtime's intra-op workers spin while waiting for work (its default, true) or block. Interleaved
    /// with Delta on few cores, workers still spinning after an ORT call take CPU from the Delta batch that follows.</summary>
    public bool OrtSpinning { get; init; } = true;
    /// <summary>Train-suite backbones as architecture:weights; resnet50:random needs no asset files (GPU machines).</summary>
    public IReadOnlyList<string> TrainArchitectures { get; init; } = ["resnet18_cntk:imagenet", "resnet50:random"];
    /// <summary>Backbone precisions the train, detection and segmentation suites run, each one timed; fp32 only by default.</summary>
    public IReadOnlyList<BenchPrecision> Precisions { get; init; } = [BenchPrecision.Fp32];
    /// <summary>Set by --fast / --precision; the inference suite then runs <see cref="Precisions"/>, and otherwise the
    /// exact fp32 mode and the fused fp32 graph (fp32+cl+fold), the two that face ONNX Runtime's fp32.</summary>
    public bool PrecisionsChosen { get; init; }
    public IReadOnlyList<BenchPrecision> InferencePrecisions => PrecisionsChosen ? Precisions : [BenchPrecision.Fp32, BenchPrecision.Fused];
    /// <summary>Images of the precision suite's Fashion-MNIST base task (train the linear head / compare).</summary>
    public int PrecisionImages { get; init; } = 1000;
    /// <summary>Gate strides (<see cref="Delta.Abstractions.Backbones.DeltaConfig.GateStride"/>) the train suite times
    /// each Δ variant with; 1 (as in the paper) by default.</summary>
    public IReadOnlyList<int> GateStrides { get; init; } = [1];
    /// <summary>Which train-suite variants run: "delta1", "delta4", "full". One per process gives a clean peak RSS
    /// (a process's high-water mark cannot drop below what earlier models left resident).</summary>
    public IReadOnlyList<string> TrainVariants { get; init; } = ["delta1", "delta4", "full"];
    /// <summary>--exact-memory: glibc's mmap threshold fixed at 128 KiB for the whole run, so RSS follows live tensors
    /// and the train, detection and segmentation suites report each variant's step memory (see
    /// <see cref="Timing.StepMemoryMb"/>). The page faults this costs make the run's throughputs slower: time without it.</summary>
    public bool ExactMemory { get; init; }
    /// <summary>Detection/segmentation suites: batch and (square) input size of a training step.</summary>
    public int TaskBatch { get; init; } = 2;
    public int TaskSize { get; init; } = 256;
    /// <summary>Backbone of the detection and segmentation training steps, as architecture:weights.</summary>
    public string TaskArchitecture { get; init; } = "resnet50:random";
}
