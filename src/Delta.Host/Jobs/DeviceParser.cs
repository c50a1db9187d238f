using TorchSharp;

namespace Delta.Host.Jobs;

/// <summary>"cpu", "cuda", "cuda:N" → a torch device, refusing CUDA where this build or machine has none
/// (reading torch.CUDA on a CPU-only build throws, so availability is checked first).</summary>
public static class DeviceParser
{
    public static torch.Device Parse(string text, string key = "device")
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return torch.CPU;
        if (t == "cuda" || t.StartsWith("cuda:", StringComparison.Ordinal))
        {
            var index = 0;
            if (t.Length > 4 && !int.TryParse(t[5..], out index) || index < 0)
                throw new BadInputException($"{key}: '{text}' is not a device (use cpu, cuda or cuda:N).");
            if (!torch.cuda.is_available())
                throw new BadInputException($"{key}: '{text}' asked for CUDA, but no CUDA device is available to this build (see README, CUDA).");
            if (index >= torch.cuda.device_count())
                throw new BadInputException($"{key}: '{text}': only {torch.cuda.device_count()} CUDA device(s).");
            // As torch.backends.cudnn.benchmark = True: the frozen base's convolutions run with the fastest algorithm
            // per shape (opt out with DELTA_CUDNN_BENCHMARK=0).
            if (Delta.Backbones.Runtime.CudnnAutotune.EnableForCuda() is { } problem) Console.Error.WriteLine($"warning: {problem}");
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new BadInputException($"{key}: '{text}' is not a device (use cpu, cuda or cuda:N).");
    }

    /// <summary>The one spelling of a parsed device, "cpu" or "cuda:N": what the service queues a job under and what its
    /// workers claim by, so "CPU", " cuda" and "cuda:0" all reach the same worker.</summary>
    public static string Name(torch.Device device) =>
        device.type == DeviceType.CPU ? "cpu" : $"cuda:{Math.Max(0, device.index)}";
}
