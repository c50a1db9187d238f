using Delta.Backbones.Architectures;

namespace Delta.Backbones.Registry;

/// <summary>One counted reference to a <see cref="SharedBase"/> (<see cref="BackboneRegistry.AcquireBase"/>): while
/// it is not disposed the base and its derived copies stay alive, also after the registry evicted the base because its
/// weights file was rewritten. Disposing it gives the reference back (once; again is a no-op) and, if it was the last
/// one of an evicted base, frees that base.</summary>
public sealed class BaseLease : IDisposable
{
    private SharedBase? held;

    internal BaseLease(SharedBase shared)
    {
        Base = shared;
        held = shared;
    }

    public SharedBase Base { get; }
    public StagedBackbone Model => Base.Model;

    public void Dispose() => Interlocked.Exchange(ref held, null)?.Release();
}
