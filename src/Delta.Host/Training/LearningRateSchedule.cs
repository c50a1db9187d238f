using Delta.Abstractions.Plugins;

namespace Delta.Host.Training;

/// <summary>
/// Learning rate at an optimizer step, from the shared hyper-parameters. Linear warm-up from 0 over
/// WarmupSteps, then: constant; cosine to 0 (SGDR without restarts); poly (1 − t)^0.9 as in DeepLab;
/// step ×0.1 at 2/3 of training. t runs over the steps after warm-up; with no known total, decays are off.
/// </summary>
public sealed class LearningRateSchedule(TrainingHyperParameters hyper, long totalSteps)
{
    public const double PolyPower = 0.9;

    public long TotalSteps { get; } = totalSteps;

    public double At(long step)
    {
        var baseLr = hyper.LearningRate;
        if (hyper.WarmupSteps > 0 && step < hyper.WarmupSteps)
            return baseLr * (step + 1) / hyper.WarmupSteps;
        if (TotalSteps <= 0) return baseLr;
        var span = Math.Max(1, TotalSteps - hyper.WarmupSteps);
        var t = Math.Clamp((double)(step - hyper.WarmupSteps) / span, 0, 1);
        return hyper.Schedule.ToLowerInvariant() switch
        {
            "constant" => baseLr,
            "cosine" => baseLr * 0.5 * (1 + Math.Cos(Math.PI * t)),
            "poly" => baseLr * Math.Pow(1 - t, PolyPower),
            "step" => t < 2.0 / 3.0 ? baseLr : baseLr * 0.1,
            var other => throw new ArgumentException($"Unknown schedule '{other}'. Valid: {string.Join(", ", TrainingHyperParameters.Schedules)}."),
        };
    }
}
