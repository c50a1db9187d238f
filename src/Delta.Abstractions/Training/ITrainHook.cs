namespace Delta.Abstractions.Training;

/// <summary>Something that happens around the loop without the loop knowing about it.
/// Set <see cref="TrainState.StopRequested"/> to end training after the current step.</summary>
public interface ITrainHook
{
    void OnStart(TrainState state) { }
    void OnStep(StepReport step, TrainState state) { }
    void OnEpochEnd(EpochReport epoch, TrainState state) { }
    void OnEnd(TrainState state) { }
}
