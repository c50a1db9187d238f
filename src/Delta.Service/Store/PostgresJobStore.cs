using System.Data.Common;
using Npgsql;

namespace Delta.Service.Store;

/// <summary>
/// The shared queue for several hosts: claims lock the row with FOR UPDATE SKIP LOCKED in one transaction,
/// leases expire unless heartbeats extend them, and any host requeues a dead host's expired job.
/// </summary>
public sealed class PostgresJobStore : SqlJobStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource dataSource;

    public PostgresJobStore(string connectionString, TimeProvider? clock = null) : base(new PostgresDialect(), clock)
        => dataSource = NpgsqlDataSource.Create(connectionString);

    // Two hosts starting at once would race on CREATE TABLE IF NOT EXISTS (a unique violation on pg_type).
    protected override string? SchemaLock => "SELECT pg_advisory_xact_lock(7262401)";

    // Submissions from several hosts take turns, so that a name or idempotency key checked as free is still free at the
    // insert. One lock for all: submissions are few and short, and any finer key would have to be derived from both.
    protected override string? SubmitLock => "SELECT pg_advisory_xact_lock(7262402)";

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await dataSource.OpenConnectionAsync(ct);

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
