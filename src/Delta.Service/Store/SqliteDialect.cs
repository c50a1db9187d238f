namespace Delta.Service.Store;

public sealed class SqliteDialect : SqlDialect
{
    public override string[] Schema { get; } =
    [
        """
        CREATE TABLE IF NOT EXISTS jobs (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, device TEXT NOT NULL, spec TEXT NOT NULL,
          state TEXT NOT NULL, idempotency_key TEXT UNIQUE, owner TEXT, lease_expires INTEGER,
          attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0, error TEXT, released INTEGER NOT NULL DEFAULT 0,
          progress TEXT, metrics TEXT, artifacts TEXT,
          created INTEGER NOT NULL, started INTEGER, finished INTEGER)
        """,
        "CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(state, device, seq)",
        "CREATE TABLE IF NOT EXISTS job_logs (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, time INTEGER NOT NULL, text TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS job_logs_job ON job_logs(job_id, seq)",
        "CREATE TABLE IF NOT EXISTS job_points (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, step INTEGER NOT NULL, metrics TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS job_points_job ON job_points(job_id, seq)",
    ];

    // SQLite serialises writers: the claim runs in a BEGIN IMMEDIATE transaction (see SqliteJobStore),
    // so select-then-update cannot race within the one host process this store is meant for.
    public override string ColumnCount(string table, string column) => $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{column}'";

    public override string PickNextQueued => "SELECT id FROM jobs WHERE state = 'queued' AND device = @device AND cancel_requested = 0 ORDER BY seq LIMIT 1";
}
