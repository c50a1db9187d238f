using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Delta.Service.Store;

/// <summary>
/// The embedded default: one SQLite file in the data folder, WAL journal, synchronous=FULL so a committed
/// transaction survives kill -9 and power loss, and no half-written row (SQLite's journal rolls back an
/// interrupted transaction). Safe for one host process; several hosts need <see cref="PostgresJobStore"/>.
/// </summary>
public sealed class SqliteJobStore(string path, TimeProvider? clock = null) : SqlJobStore(new SqliteDialect(), clock)
{
    private readonly string connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = Path.GetFullPath(path), Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30,
    }.ToString();

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var c = new SqliteConnection(connectionString);
        await c.OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        // journal_mode is stored in the file; synchronous and busy_timeout are per connection.
        cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;";
        await cmd.ExecuteNonQueryAsync(ct);
        return c;
    }
}
