namespace Delta.Service.Store;

public sealed class PostgresDialect : SqlDialect
{
    public override string[] Schema { get; } =
    [
        """
        CREATE TABLE IF NOT EXISTS jobs (
          seq BIGSERIAL PRIMARY KEY,
          id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, device TEXT NOT NULL, spec TEXT NOT NULL,
          state TEXT NOT NULL, idempotency_key TEXT UNIQUE, owner TEXT, lease_expires BIGINT,
          attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0, error TEXT, released INTEGER NOT NULL DEFAULT 0,
          progress TEXT, metrics TEXT, artifacts TEXT,
          created BIGINT NOT NULL, started BIGINT, finished BIGINT)
        """,
        "CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(state, device, seq)",
        "CREATE TABLE IF NOT EXISTS job_logs (seq BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL, time BIGINT NOT NULL, text TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS job_logs_job ON job_logs(job_id, seq)",
        "CREATE TABLE IF NOT EXISTS job_points (seq BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL, step BIGINT NOT NULL, metrics TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS job_points_job ON job_points(job_id, seq)",
    ];

    // Several hosts claim concurrently: the row lock plus SKIP LOCKED hands each queued row to exactly
    // one transaction; the others skip it instead of waiting on it.
    public override string ColumnCount(string table, string column) =>
        $"SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' AND column_name = '{column}'";

    public override string PickNextQueued =>
        "SELECT id FROM jobs WHERE state = 'queued' AND device = @device AND cancel_requested = 0 ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED";
}
