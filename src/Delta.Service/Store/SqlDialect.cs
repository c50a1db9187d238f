namespace Delta.Service.Store;

/// <summary>The few statements that differ between SQLite and PostgreSQL; everything else is shared SQL.</summary>
public abstract class SqlDialect
{
    public abstract string[] Schema { get; }
    /// <summary>Selects the id of the next queued job for @device, locking it against other claimers. A row flagged for
    /// cancellation is never picked (a queue written before requeues honoured the flag may still hold one).</summary>
    public abstract string PickNextQueued { get; }
}
