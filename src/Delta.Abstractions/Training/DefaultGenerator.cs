using Delta.Abstractions.Backbones;
using static TorchSharp.torch;

namespace Delta.Abstractions.Training;

/// <summary>
/// libtorch's default CPU generator is one per process: jobs that run side by side in one host (a service with
/// several devices) share it, and default module initialisation draws from it. Code that seeds it and then draws
/// from it (builds a model) does both inside <see cref="Seeded"/>, which holds one process-wide lock, so that no
/// other job's seeding, drawing or checkpoint restore falls in between; the trainer reads and restores checkpoint
/// states under the same lock (<see cref="Held"/>). Draws during training belong to generators of the task's own
/// (<see cref="TrainLoop{TBatch}.Generators"/>).
/// <para>Lock order: this lock before any other (the backbone registry's, its derived copies'), since a plugin
/// holds it while the registry builds; code that takes another lock first must not then build or seed.</para>
/// </summary>
public static class DefaultGenerator
{
    private static readonly object Gate = new();

    /// <summary>Seeds the default generators with <paramref name="seed"/> and keeps the lock until disposed: build
    /// what draws from them inside, on this thread, with no await in between.</summary>
    public static IDisposable Seeded(long seed)
    {
        var held = Held();
        try { manual_seed(seed); }
        catch { held.Dispose(); throw; }
        return held;
    }

    /// <summary>
    /// A task's backbone and the model over it, seeded with <paramref name="seed"/> and built under the lock (a
    /// fine-tuning copy's and the heads' default init draw from the default generator); the backbone is disposed if
    /// the model cannot be built.
    /// </summary>
    public static (IDeltaBackbone Backbone, TModel Model) SeededBuild<TModel>(long seed, Func<IDeltaBackbone> backbone, Func<IDeltaBackbone, TModel> model)
    {
        using var seeded = Seeded(seed);
        var built = backbone();
        try { return (built, model(built)); }
        catch { built.Dispose(); throw; }
    }

    /// <summary>Seeds the default generators, under the lock.</summary>
    public static void Seed(long seed)
    {
        using (Seeded(seed)) { }
    }

    /// <summary>
    /// Runs <paramref name="build"/> (module constructors, which draw their default init from the default generator)
    /// and puts the generator back where it was, under the lock. For modules whose values are all overwritten
    /// afterwards (loaded weights, a seeded init, a copy): without it, whatever is seeded and built next drew other
    /// values depending on whether, say, a base had already been loaded in this process.
    /// </summary>
    public static T LeftAlone<T>(Func<T> build)
    {
        using var held = Held();
        using var state = get_rng_state();
        try { return build(); }
        finally { set_rng_state(state); }
    }

    /// <summary>The lock alone: for reading or setting the default generator's state.</summary>
    public static IDisposable Held()
    {
        Monitor.Enter(Gate);
        return new Release();
    }

    private sealed class Release : IDisposable
    {
        private bool released;
        public void Dispose()
        {
            if (released) return;
            released = true;
            Monitor.Exit(Gate);
        }
    }
}
