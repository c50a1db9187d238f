namespace Delta.Abstractions.Plugins;

public enum TaskKind { Classification, Detection, Segmentation, DomainAdaptation, Regression, Other }
