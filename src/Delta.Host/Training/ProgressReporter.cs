using System.Diagnostics;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;

namespace Delta.Host.Training;

/// <summary>Turns step/epoch reports into <see cref="TrainProgress"/>: rate over a sliding window, ETA
/// from the remaining planned steps.</summary>
internal sealed class ProgressReporter(IProgress<TrainProgress> sink, int itemsPerBatch)
{
    private readonly Queue<(long Step, double Time)> window = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public void Step(StepReport step, TrainState state)
    {
        var now = clock.Elapsed.TotalSeconds;
        window.Enqueue((step.Step, now));
        while (window.Count > 50) window.Dequeue();
        var (firstStep, firstTime) = window.Peek();
        var rate = window.Count > 1 && now > firstTime ? (step.Step - firstStep) / (now - firstTime) : 0;
        TimeSpan? eta = state.TotalSteps > 0 && rate > 0 ? TimeSpan.FromSeconds((state.TotalSteps - step.Step) / rate) : null;
        var metrics = new Dictionary<string, double>(step.Losses) { ["loss"] = step.TotalLoss, ["lr"] = step.LearningRate };
        sink.Report(new TrainProgress
        {
            Epoch = step.Epoch + 1, Epochs = state.Epochs, Step = step.Step, TotalSteps = state.TotalSteps,
            StepsPerSecond = rate, ItemsPerSecond = rate * itemsPerBatch, Eta = eta, Metrics = metrics,
        });
    }

    public void Epoch(EpochReport epoch, TrainState state)
    {
        // Named apart from the step's own losses ("epoch_ce" beside "ce"): the epoch's last step reports both, and under one
        // name a chart of "ce" would jump from the step's loss to the epoch's mean at every epoch end.
        // The step's total is "loss", so the epoch's mean of it is "epoch_loss" (the accumulator calls it "total").
        var metrics = epoch.MeanLosses.Select(kv => new KeyValuePair<string, double>(kv.Key == "total" ? "epoch_loss" : "epoch_" + kv.Key, kv.Value))
            .Concat(epoch.Validation.Select(kv => new KeyValuePair<string, double>("val_" + kv.Key, kv.Value)))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        sink.Report(new TrainProgress
        {
            Epoch = epoch.Epoch + 1, Epochs = state.Epochs, Step = state.Step, TotalSteps = state.TotalSteps,
            Metrics = metrics, Message = $"epoch {epoch.Epoch + 1}/{state.Epochs} done in {epoch.Seconds:F1} s",
        });
    }
}
