namespace Delta.Service.Store;

/// <summary>The few statements that differ between SQLite and PostgreSQL; everything else is shared SQL.</summary>
public abstract class SqlDialect
{
    public abstract string[] Schema { get; }
    /// <summary>Columns added after the first release, as (table, column, definition): a queue made by an older build
    /// gets them when a newer one starts on it (ALTER TABLE … ADD COLUMN, where <see cref="ColumnCount"/> says 0).</summary>
    public IReadOnlyList<(string Table, string Column, string Definition)> AddedColumns { get; } =
    [
        ("jobs", "released", "INTEGER NOT NULL DEFAULT 0"),
    ];
    /// <summary>A query giving 1 when <paramref name="table"/> has <paramref name="column"/>, else 0 (names are constants of this code).</summary>
    public abstract string ColumnCount(string table, string column);
    /// <summary>Selects the id of the next queued job for @device, locking it against other claimers. A row flagged for
    /// cancellation is never picked (a queue written before requeues honoured the flag may still hold one).</summary>
    public abstract string PickNextQueued { get; }
}
