using System.Globalization;
using System.Text.Json;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Service.Jobs;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Service.TestHost;

/// <summary>
/// A real, deterministic training run: plain SGD (no optimizer state) on a fixed dataset, batches chosen by
/// step index, so "parameters + step" is the complete training state and a run resumed from a checkpoint
/// ends bit-identical to an uninterrupted one. Checkpoints are written atomically (temp file + rename)
/// every <see cref="ToyJob.CheckpointEvery"/> steps and when cancelled.
/// </summary>
public sealed class ToyRegressionExecutor : IJobExecutor
{
    private const int Features = 8, Rows = 256, Batch = 16;
    private const long Magic = 0x44454c5441434b50; // "DELTACKP": a checkpoint must start with it

    public Task<JobExecutionResult> ExecuteAsync(JobExecution execution, CancellationToken ct)
    {
        var job = JsonSerializer.Deserialize<ToyJob>(execution.Job.Spec, ToyJob.Json)!;
        using var model = CreateModel(job.Seed);
        using var data = NewDisposeScope();
        var gen = new Generator((ulong)job.Seed);
        var x = randn(Rows, Features, generator: gen);
        var trueW = randn(Features, 1, generator: gen);
        var y = x.matmul(trueW) + 0.1 * randn(Rows, 1, generator: gen);
        var optimizer = optim.SGD(model.parameters(), 0.05);
        var checkpoint = Path.Combine(execution.CheckpointDir, "toy.ckpt");

        var start = 0;
        if (execution.Resume && File.Exists(checkpoint))
        {
            start = Load(checkpoint, model);
            execution.Log($"resumed from checkpoint at step {start}");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var step = start; step < job.Steps; step++)
        {
            if (ct.IsCancellationRequested)
            {
                Save(checkpoint, model, step);
                execution.Log($"cancelled at step {step}; checkpoint written");
                ct.ThrowIfCancellationRequested();
            }
            if (job.FailAtStep == step) throw new InvalidOperationException($"injected failure at step {step}");
            double lossValue;
            using (var scope = NewDisposeScope())
            {
                var rows = arange(step * Batch, step * Batch + Batch, dtype: int64, device: x.device).remainder(Rows);
                var xb = x.index_select(0, rows);
                if (job.NanAtStep == step) xb = xb * float.NaN;
                optimizer.zero_grad();
                var loss = nn.functional.mse_loss(model.call(xb), y.index_select(0, rows));
                lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue)) throw new NonFiniteLossException(step, new Dictionary<string, double> { ["loss"] = lossValue });
                loss.backward();
                optimizer.step();
            }
            if ((step + 1) % job.CheckpointEvery == 0) Save(checkpoint, model, step + 1);
            var done = step + 1 - start;
            var rate = done / Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
            execution.Progress.Report(new TrainProgress
            {
                Epoch = 1, Epochs = 1, Step = step + 1, TotalSteps = job.Steps, StepsPerSecond = rate,
                Eta = TimeSpan.FromSeconds((job.Steps - step - 1) / rate),
                Metrics = new Dictionary<string, double> { ["loss"] = lossValue },
            });
            if (job.StepDelayMs > 0) ct.WaitHandle.WaitOne(job.StepDelayMs);
        }

        double finalLoss;
        using (no_grad())
        using (var scope = NewDisposeScope())
            finalLoss = nn.functional.mse_loss(model.call(x), y).item<float>();
        var weights = Parameters(model);
        var metrics = new Dictionary<string, double> { ["final_loss"] = finalLoss, ["w0"] = weights[0], ["bias"] = weights[^1] };
        Directory.CreateDirectory(execution.WorkDir);
        var metricsFile = Path.Combine(execution.WorkDir, "metrics.json");
        File.WriteAllText(metricsFile, JsonSerializer.Serialize(metrics));
        var weightsFile = Path.Combine(execution.WorkDir, "weights.txt");
        File.WriteAllLines(weightsFile, weights.Select(w => w.ToString("R", CultureInfo.InvariantCulture)));
        return Task.FromResult(new JobExecutionResult(metrics, [metricsFile, weightsFile]));
    }

    /// <summary>
    /// Initial weights from a generator of its own (Linear's default uniform bound 1/sqrt(fan_in)), not from
    /// manual_seed + the global RNG: the reference run and in-process services run executors concurrently,
    /// and a seed set by one was consumed by another (a resumed run then ended off by 2e-7, not bit-identical).
    /// </summary>
    private static nn.Module<Tensor, Tensor> CreateModel(long seed)
    {
        var model = nn.Linear(Features, 1);
        using var gen = new Generator(unchecked((ulong)seed) ^ 0x9E3779B97F4A7C15);
        var bound = 1.0 / Math.Sqrt(Features);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var p in model.parameters())
            p.copy_(rand(p.shape, generator: gen, device: p.device) * (2 * bound) - bound);
        return model;
    }

    private static float[] Parameters(nn.Module model) =>
        model.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();

    private static void Save(string path, nn.Module model, int step)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // A unique temp name: a host that has just lost its lease may still write for up to one heartbeat
        // while the new owner writes too; the two must not share (and steal) one temp file.
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        using (var w = new BinaryWriter(File.Create(tmp)))
        {
            w.Write(Magic);
            w.Write(step);
            var values = Parameters(model);
            w.Write(values.Length);
            foreach (var v in values) w.Write(v);
            w.Flush();
            ((FileStream)w.BaseStream).Flush(flushToDisk: true);
        }
        // rename is atomic: a kill at any moment leaves either the old or the new checkpoint, never half of one.
        File.Move(tmp, path, overwrite: true);
    }

    private static int Load(string path, nn.Module model)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        if (r.ReadInt64() != Magic) throw new InvalidDataException($"{path}: not a toy checkpoint");
        var step = r.ReadInt32();
        var values = new float[r.ReadInt32()];
        for (var i = 0; i < values.Length; i++) values[i] = r.ReadSingle();
        using var _ = no_grad();
        var offset = 0;
        foreach (var p in model.parameters())
        {
            var n = (int)p.numel();
            using var t = tensor(values[offset..(offset + n)]).reshape(p.shape);
            p.copy_(t);
            offset += n;
        }
        if (offset != values.Length) throw new InvalidDataException($"{path}: {values.Length} values for {offset} parameters");
        return step;
    }
}
