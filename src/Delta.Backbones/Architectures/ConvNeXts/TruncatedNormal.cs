using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ConvNeXts;

/// <summary>PyTorch's trunc_normal_ (inverse-CDF method) drawn from an explicit generator: values ~ N(0, std²)
/// restricted to the absolute bounds [−2, 2] (torchvision's defaults).</summary>
internal static class TruncatedNormal
{
    public static void Fill(Tensor t, double std, Generator generator, double low = -2, double high = 2)
    {
        static double NormalCdf(double x) => (1 + Erf(x / Math.Sqrt(2))) / 2;
        var l = NormalCdf(low / std);
        var u = NormalCdf(high / std);
        using var noGrad = no_grad();
        t.uniform_(2 * l - 1, 2 * u - 1, generator);
        t.erfinv_().mul_(std * Math.Sqrt(2)).clamp_(low, high);
    }

    /// <summary>erf via Abramowitz–Stegun 7.1.26 (|error| &lt; 1.5e-7), enough for the CDF bounds.</summary>
    private static double Erf(double x)
    {
        var sign = Math.Sign(x);
        x = Math.Abs(x);
        var t = 1 / (1 + 0.3275911 * x);
        var y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return sign * y;
    }
}
