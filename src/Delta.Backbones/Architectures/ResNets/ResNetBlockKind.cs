namespace Delta.Backbones.Architectures.ResNets;

public enum ResNetBlockKind { Basic, Bottleneck }
