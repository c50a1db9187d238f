using Delta.Abstractions.Backbones;
using Delta.Backbones.Autograd;
using Delta.Backbones.Registry;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Bench;

public sealed partial class Suites
{
    /// <summary>
    /// Not a timing: checks, on the bench's device, that the activation-free frozen backward
    /// (<see cref="FrozenLayerBackward"/>) gives the Δ-modules the gradients libtorch's own nodes give. The unit tests
    /// prove it on the CPU; this suite exists so that a CUDA machine (which has no .NET SDK to run the tests) checks
    /// it first, before any figure is trusted (<c>bench/gpu-check.sh</c> falls back to libtorch's nodes when it fails).
    /// For each architecture, Δ(1) and Δ(4), and each precision: one forward + backward of a random batch with
    /// libtorch's nodes, one with the activation-free nodes under <see cref="FrozenLayerBackward.SingleBackward"/>
    /// (as the trainer runs them); the forward must be bit-identical and each Δ parameter's gradient within
    /// <see cref="GradientTolerance"/> of its layer's largest gradient. Reports the worst error; failures are listed
    /// in <see cref="GradientCheckFailures"/>.
    /// </summary>
    public IEnumerable<BenchResult> GradientCheck()
    {
        using var registry = new BackboneRegistry(BackboneRegistry.DefaultWeightsSources().Prepend(new RandomBatchNormStatistics()));
        foreach (var spec in o.TrainArchitectures)
        {
            var (arch, weights) = ArchAndWeights(spec);
            // "random" BNs sit at mean 0, variance 1, γ 1, β 0: their input-gradient scale is 1 - 5e-6, and a check on
            // them could not see a frozen BN's scale dropped or misapplied. Same init with drawn BN statistics instead.
            if (weights == RandomInitWeights.Name) weights = RandomBatchNormStatistics.Name;
            foreach (var stages in new[] { 1, 4 })
            // Bf16 skip sums (+sbf16) add no node to check (their skip BNs are libtorch's own) and make the two sides'
            // gradients differ by bf16 rounding of whole maps, which a tolerance cannot tell from a broken node.
            foreach (var precision in o.Precisions.Where(p => !p.SkipBf16))
            {
                using var scope = NewDisposeScope();
                using var backbone = registry.Create(precision.Apply(new BackboneRequest
                {
                    Architecture = arch, Weights = weights, Delta = new DeltaConfig { Stages = stages }, Device = device, Seed = 3,
                }));
                // The skip BNs start at γ = 0, which stops every gradient at the gates on step 0; a scale lets every
                // Δ parameter get one to compare.
                using (no_grad())
                    foreach (var bn in backbone.Module.modules().OfType<BatchNorm2d>().Where(b => b.weight is { requires_grad: true }))
                        bn.weight!.fill_(0.7);
                backbone.Train(true);
                using var g = new Generator(4, device);
                var input = randn([GradientCheckBatch, 3, GradientCheckSize, GradientCheckSize], generator: g, device: device);
                var outputWeight = randn([GradientCheckBatch, backbone.NumFeatures], generator: g, device: device);

                Dictionary<string, Tensor> Gradients(bool standard, out Tensor pooled)
                {
                    using var libtorchNodes = standard ? FrozenLayerBackward.Standard() : null;
                    using var singleBackward = standard ? null : FrozenLayerBackward.SingleBackward();
                    foreach (var p in backbone.TrainableParameters) p.grad = null;
                    var features = backbone.Forward(input);
                    pooled = features.Pooled.detach();
                    (features.Pooled.to_type(ScalarType.Float32) * outputWeight).sum().backward();
                    return backbone.Module.named_parameters().Where(p => p.parameter.requires_grad)
                        .ToDictionary(p => p.name, p => p.parameter.grad?.to_type(ScalarType.Float32).clone() ?? zeros(0, device: device));
                }

                var expected = Gradients(standard: true, out var expectedPooled);
                var actual = Gradients(standard: false, out var actualPooled);
                var forwardIdentical = expectedPooled.eq(actualPooled).all().item<bool>();
                // Errors against the layer's largest gradient: a bias gradient can cancel down to a small fraction of
                // its weight's, and its rounding error does not cancel with it.
                static string Layer(string name) => name.Contains('.') ? name[..name.LastIndexOf('.')] : name;
                var layerScale = expected.GroupBy(p => Layer(p.Key))
                    .ToDictionary(l => l.Key, l => l.Max(p => p.Value.numel() == 0 ? 0.0 : p.Value.abs().max().item<float>()));
                var (worst, worstName) = (0.0, "");
                var missing = new List<string>();
                foreach (var (name, grad) in expected)
                {
                    if (grad.numel() == 0 || actual[name].numel() == 0) { missing.Add(name); continue; }
                    var error = (actual[name] - grad).abs().max().item<float>() / Math.Max(1e-30, layerScale[Layer(name)]);
                    if (error > worst || double.IsNaN(error)) (worst, worstName) = (error, name);
                }
                var tolerance = GradientTolerance(precision);
                var label = $"{arch} Δ({stages}){precision.Suffix}";
                var passed = forwardIdentical && missing.Count == 0 && worst <= tolerance;
                if (!passed)
                    GradientCheckFailures.Add($"{label} on {device}: " + (!forwardIdentical ? "the forward pass changed; " : "")
                        + (missing.Count > 0 ? $"no gradient for {string.Join(", ", missing.Take(3))}; " : "")
                        + $"worst gradient error {worst:E2} ({worstName}), tolerance {tolerance:E0}");
                yield return new("gradcheck", $"{label} worst gradient error vs libtorch's nodes", worst, "rel",
                    S(("arch", arch), ("batch", GradientCheckBatch), ("size", GradientCheckSize), ("precision", precision.Label),
                      ("parameters", expected.Count), ("worst", worstName), ("forward identical", forwardIdentical),
                      ("tolerance", tolerance), ("passed", passed)));
            }
        }
    }

    /// <summary>"random-bn": the "random" init, then every BatchNorm's running statistics and affine parameters drawn
    /// from a fixed seed, so that the frozen BNs scale and shift their channels as trained ones do.</summary>
    private sealed class RandomBatchNormStatistics : IBaseWeightsSource
    {
        public const string Name = "random-bn";
        private readonly RandomInitWeights random = new();

        public bool CanLoad(string weights, BackboneInfo arch) => weights == Name && random.CanLoad(RandomInitWeights.Name, arch);

        public IInputPreprocessing Load(nn.Module baseModel, string weights, BackboneInfo arch)
        {
            var preprocessing = random.Load(baseModel, RandomInitWeights.Name, arch);
            using var g = new Generator(5);
            using var noGrad = no_grad();
            foreach (var bn in baseModel.modules().OfType<BatchNorm2d>())
            {
                var c = bn.running_mean!.shape[0];
                bn.running_mean.copy_(randn(c, generator: g) * 0.5);
                bn.running_var!.copy_(rand(c, generator: g) * 2 + 0.2);
                bn.weight!.copy_(rand(c, generator: g) + 0.5);
                bn.bias!.copy_(randn(c, generator: g) * 0.3);
            }
            return preprocessing;
        }
    }

    /// <summary>What <see cref="GradientCheck"/> found wrong, one line per network; empty when all passed.</summary>
    public List<string> GradientCheckFailures { get; } = [];

    private const int GradientCheckBatch = 4, GradientCheckSize = 96;

    /// <summary>fp32: the same sums in another order (the unit tests see ≤ 1e-5 per layer; a deep network and cuDNN's
    /// own algorithm choices get a margin). bf16 base: each frozen layer's input gradient is rounded to bf16 (8 bits of
    /// mantissa) on both sides, at different points of the sum.</summary>
    private static double GradientTolerance(BenchPrecision precision) =>
        precision.Precision == BackbonePrecision.Float32 && !precision.DeltaBf16 ? 1e-4 : 5e-2;
}
