using Delta.Abstractions.Plugins;

namespace Delta.Host.Cli;

/// <summary>
/// Progress on stderr: a redrawn bar with rate and ETA on a terminal, one plain line every few seconds when
/// stderr is redirected (logs, CI). Messages (epoch summaries) always get their own line.
/// </summary>
public sealed class ConsoleProgress(TextWriter? writer = null, bool? interactive = null) : IProgress<TrainProgress>
{
    private readonly TextWriter writer = writer ?? Console.Error;
    private readonly bool interactive = interactive ?? !Console.IsErrorRedirected;
    private DateTime lastPlain = DateTime.MinValue;
    private readonly object gate = new();

    public void Report(TrainProgress p)
    {
        lock (gate)
        {
            if (p.Message is not null)
            {
                if (interactive) writer.Write("\r\u001b[2K");
                writer.WriteLine($"{p.Message}  {Format(p.Metrics)}");
                return;
            }
            var line = Line(p);
            if (interactive) writer.Write("\r\u001b[2K" + line);
            else if ((DateTime.UtcNow - lastPlain).TotalSeconds >= 5 || p.TotalSteps > 0 && p.Step >= p.TotalSteps)
            {
                writer.WriteLine(line);
                lastPlain = DateTime.UtcNow;
            }
        }
    }

    public static string Line(TrainProgress p)
    {
        const int width = 24;
        var fraction = p.TotalSteps > 0 ? Math.Clamp((double)p.Step / p.TotalSteps, 0, 1) : 0;
        var filled = (int)Math.Round(fraction * width);
        var bar = p.TotalSteps > 0 ? "[" + new string('#', filled) + new string('.', width - filled) + $"] {fraction * 100,5:F1}%" : $"step {p.Step}";
        var eta = p.Eta is { } e ? $" ETA {(int)e.TotalMinutes:D2}:{e.Seconds:D2}" : "";
        var rate = p.ItemsPerSecond > 0 ? $" {p.ItemsPerSecond:F1} img/s" : p.StepsPerSecond > 0 ? $" {p.StepsPerSecond:F2} it/s" : "";
        return $"epoch {p.Epoch}/{p.Epochs} {bar} {p.Step}/{p.TotalSteps}{rate}{eta}  {Format(p.Metrics)}";
    }

    private static string Format(IReadOnlyDictionary<string, double> metrics) =>
        string.Join(" ", metrics.Where(kv => kv.Key != "lr").Take(6).Select(kv => $"{kv.Key}={kv.Value:G4}"));
}
