using static TorchSharp.torch;

namespace Delta.Abstractions.Training;

/// <summary>A task's trainable state for checkpoints (names → tensors), restored strictly on resume.</summary>
public interface ICheckpointable
{
    IReadOnlyDictionary<string, Tensor> CheckpointState();
    void LoadCheckpointState(IReadOnlyDictionary<string, Tensor> state);
}
