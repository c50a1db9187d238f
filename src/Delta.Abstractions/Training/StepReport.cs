namespace Delta.Abstractions.Training;

/// <summary>One optimizer step: the named losses and their sum as plain numbers, the learning rate used.</summary>
public sealed record StepReport(long Step, int Epoch, IReadOnlyDictionary<string, double> Losses, double TotalLoss, double LearningRate, double Seconds);
