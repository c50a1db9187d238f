using System.Data;
using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Delta.Service.Jobs;

namespace Delta.Service.Store;

/// <summary>
/// <see cref="IJobStore"/> over ADO.NET; SQLite and PostgreSQL differ only in connection set-up, schema and
/// the claim's row lock (<see cref="SqlDialect"/>). Times are stored as Unix milliseconds (UTC).
/// Each public call opens a pooled connection and runs in one transaction.
/// </summary>
public abstract class SqlJobStore(SqlDialect dialect, TimeProvider? clock = null) : IJobStore
{
    /// <summary>Non-finite metrics are written as named literals: an outcome with a NaN metric must still be recorded
    /// (JSON has no number for it; the default options throw, and the job would stay running and be retried).</summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
    private readonly TimeProvider clock = clock ?? TimeProvider.System;
    private const string Columns = "id, name, device, spec, state, idempotency_key, owner, lease_expires, attempts, cancel_requested, error, progress, metrics, artifacts, created, started, finished, released";
    /// <summary>Puts a running job down (shutdown, expired lease). One whose cancel was requested ends cancelled: back in the
    /// queue it would run again with the request forgotten, since only a running job's heartbeat reads the flag.</summary>
    private const string LetGo =
        "state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END, " +
        "error = CASE WHEN cancel_requested = 1 THEN 'cancelled by request' ELSE error END, " +
        "finished = CASE WHEN cancel_requested = 1 THEN @now ELSE finished END, owner = NULL, lease_expires = NULL";
    /// <summary>A job that has not ended (<see cref="JobStates.IsTerminal"/> is false): it holds its name.</summary>
    private const string Unended = "state IN ('queued', 'running')";
    /// <summary>The job submitted under <c>@key</c> (an idempotency key names at most one).</summary>
    private const string ByKey = $"SELECT {Columns} FROM jobs WHERE idempotency_key = @key";

    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);
    /// <summary>Runs before the schema statements in the same transaction (PostgreSQL: a lock so two hosts starting together do not race).</summary>
    protected virtual string? SchemaLock => null;
    /// <summary>Runs first in a submission's transaction, so that submissions take turns. SQLite needs none: its write
    /// transactions begin IMMEDIATE and so already take turns. PostgreSQL: a lock (see <see cref="PostgresJobStore"/>).</summary>
    protected virtual string? SubmitLock => null;

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (SchemaLock is { } lockSql) await Exec(c, tx, lockSql, ct);
        foreach (var sql in dialect.Schema) await Exec(c, tx, sql, ct);
        foreach (var (table, column, definition) in dialect.AddedColumns)
        {
            await using var count = Command(c, tx, dialect.ColumnCount(table, column));
            if (Convert.ToInt64(await count.ExecuteScalarAsync(ct)) == 0)
                await Exec(c, tx, $"ALTER TABLE {table} ADD COLUMN {column} {definition}", ct);
        }
        // A queue written before a cancel ended a queued job at once may hold queued rows flagged for cancellation;
        // no claim picks them any more, so they are ended here rather than shown as queued forever.
        await Exec(c, tx, $"UPDATE jobs SET {LetGo} WHERE state = 'queued' AND cancel_requested = 1", ct, ("now", Now));
        await tx.CommitAsync(ct);
    }

    public async Task<(JobRecord Job, bool Created)> SubmitAsync(JobSubmission s, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        // The lookups below and the insert must see every submission before this one and none may slip in between, or
        // two submissions racing with one key (or one name) would both get in; see SubmitLock. Read committed: each
        // lookup sees what the submission before it committed while this one waited for the lock.
        await using var tx = await c.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        if (SubmitLock is { } lockSql) await Exec(c, tx, lockSql, ct);
        // The key first: a retry of a submission that got through gets its own job back, never a conflict with itself.
        // Another job under a used key is refused: answering it with the first job would let the caller take that job
        // for its own.
        if (s.IdempotencyKey is not null
            && await QueryOne(c, tx, ByKey, ct, ("key", s.IdempotencyKey)) is { } earlier)
        {
            await tx.CommitAsync(ct);
            return earlier.Spec == s.Spec ? (earlier, false) : throw new IdempotencyKeyReusedException(s.IdempotencyKey, earlier.Id);
        }
        // Only a submission makes a row that is not ended (a requeue or release moves the job's own row back to queued, and
        // an ended job never starts again), so this check under the lock keeps names unique among unended jobs. A queue
        // from before the rule may hold two unended rows with one name: the oldest is named, and both hold the name.
        if (await QueryOne(c, tx, $"SELECT {Columns} FROM jobs WHERE name = @name AND {Unended} ORDER BY seq LIMIT 1", ct, ("name", s.Name)) is { } holder)
            throw new JobNameTakenException(s.Name, holder.Id, holder.State);
        var id = Guid.NewGuid().ToString("N");
        await Exec(c, tx,
            "INSERT INTO jobs (id, name, device, spec, state, idempotency_key, created) VALUES (@id, @name, @device, @spec, 'queued', @key, @now)",
            ct, ("id", id), ("name", s.Name), ("device", s.Device), ("spec", s.Spec), ("key", s.IdempotencyKey), ("now", Now));
        var job = await QueryOne(c, tx, $"SELECT {Columns} FROM jobs WHERE id = @id", ct, ("id", id));
        await tx.CommitAsync(ct);
        return (job!, true);
    }

    public async Task<JobRecord?> ClaimNextAsync(string device, string owner, TimeSpan lease, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var id = await Scalar(c, tx, dialect.PickNextQueued, ct, ("device", device)) as string;
        if (id is null) { await tx.CommitAsync(ct); return null; }
        var now = Now;
        var n = await Exec(c, tx,
            "UPDATE jobs SET state = 'running', owner = @owner, lease_expires = @exp, attempts = attempts + 1, started = COALESCE(started, @now) WHERE id = @id AND state = 'queued'",
            ct, ("owner", owner), ("exp", now + (long)lease.TotalMilliseconds), ("now", now), ("id", id));
        var job = n == 1 ? await QueryOne(c, tx, $"SELECT {Columns} FROM jobs WHERE id = @id", ct, ("id", id)) : null;
        await tx.CommitAsync(ct);
        return job;
    }

    public async Task<bool?> HeartbeatAsync(string id, string owner, TimeSpan lease, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var flag = await Scalar(c, tx,
            "UPDATE jobs SET lease_expires = @exp WHERE id = @id AND owner = @owner AND state = 'running' RETURNING cancel_requested",
            ct, ("exp", Now + (long)lease.TotalMilliseconds), ("id", id), ("owner", owner));
        await tx.CommitAsync(ct);
        return flag is null ? null : Convert.ToInt64(flag) != 0;
    }

    public async Task<bool> UpdateProgressAsync(string id, string owner, IReadOnlyList<JobProgress> reports, bool replaceFromFirstStep = false, CancellationToken ct = default)
    {
        if (reports.Count == 0) return true;
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var n = await Exec(c, tx, "UPDATE jobs SET progress = @p WHERE id = @id AND owner = @owner AND state = 'running'",
            ct, ("p", JsonSerializer.Serialize(reports[^1], Json)), ("id", id), ("owner", owner));
        if (n == 1)
        {
            if (replaceFromFirstStep)
                await Exec(c, tx, "DELETE FROM job_points WHERE job_id = @id AND step >= @step", ct, ("id", id), ("step", reports[0].Step));
            // One point per step: the reports of one step (its losses, then at an epoch's end the epoch's means and
            // validation) are one point, a later report's value winning a name both have, including a report at the
            // step of the job's last point, written in an earlier batch.
            var points = MetricPoints.MergeByStep(reports.Where(p => p.Metrics.Count > 0).Select(p => new MetricPoint(p.Step, p.Metrics)));
            if (points.Count > 0 && await LastPoint(c, tx, id, ct) is { } last && last.Point.Step == points[0].Step)
            {
                await Exec(c, tx, "UPDATE job_points SET metrics = @m WHERE seq = @seq",
                    ct, ("m", JsonSerializer.Serialize(MetricPoints.Merge(last.Point, points[0]).Metrics, Json)), ("seq", last.Seq));
                points = points.Skip(1).ToList();
            }
            foreach (var p in points)
                await Exec(c, tx, "INSERT INTO job_points (job_id, step, metrics) VALUES (@id, @step, @m)",
                    ct, ("id", id), ("step", p.Step), ("m", JsonSerializer.Serialize(p.Metrics, Json)));
        }
        await tx.CommitAsync(ct);
        return n == 1;
    }

    public async Task AppendLogAsync(string id, string text, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await Exec(c, null, "INSERT INTO job_logs (job_id, time, text) VALUES (@id, @t, @text)", ct, ("id", id), ("t", Now), ("text", text));
    }

    public async Task<bool> CompleteAsync(string id, string owner, JobOutcome o, CancellationToken ct = default)
    {
        if (!o.State.IsTerminal()) throw new ArgumentException($"Outcome state must be terminal, not {o.State}.", nameof(o));
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var n = await Exec(c, tx,
            "UPDATE jobs SET state = @state, error = @error, metrics = @m, artifacts = @a, finished = @now, owner = NULL, lease_expires = NULL WHERE id = @id AND owner = @owner AND state = 'running'",
            ct, ("state", o.State.ToDb()), ("error", o.Error), ("m", JsonSerializer.Serialize(o.Metrics, Json)),
            ("a", JsonSerializer.Serialize(o.Artifacts, Json)), ("now", Now), ("id", id), ("owner", owner));
        await tx.CommitAsync(ct);
        return n == 1;
    }

    public async Task<bool> ReleaseAsync(string id, string owner, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        // Counted apart from attempts: a graceful stop (checkpointed, requeued) is not a failure to reach an outcome.
        return await Exec(c, null, $"UPDATE jobs SET {LetGo}, released = released + 1 WHERE id = @id AND owner = @owner AND state = 'running'",
            ct, ("id", id), ("owner", owner), ("now", Now)) == 1;
    }

    public async Task<JobRecord?> RequestCancelAsync(string id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await Exec(c, tx, "UPDATE jobs SET state = 'cancelled', error = 'cancelled before it started', finished = @now WHERE id = @id AND state = 'queued'", ct, ("id", id), ("now", Now));
        await Exec(c, tx, "UPDATE jobs SET cancel_requested = 1 WHERE id = @id AND state = 'running'", ct, ("id", id));
        var job = await QueryOne(c, tx, $"SELECT {Columns} FROM jobs WHERE id = @id", ct, ("id", id));
        await tx.CommitAsync(ct);
        return job;
    }

    public async Task<int> RequeueStaleAsync(string? formerOwner, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var ids = new List<(string Id, string State)>();
        await using (var cmd = Command(c, tx,
            $"UPDATE jobs SET {LetGo} WHERE state = 'running' AND (lease_expires < @now OR owner = @owner) RETURNING id, state",
            ("now", Now), ("owner", formerOwner)))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct)) ids.Add((r.GetString(0), r.GetString(1)));
        foreach (var (id, state) in ids)
            await Exec(c, tx, "INSERT INTO job_logs (job_id, time, text) VALUES (@id, @t, @text)", ct,
                ("id", id), ("t", Now), ("text", state == JobState.Cancelled.ToDb()
                    ? "lease lost (host died or restarted): cancelled, as requested while it ran"
                    : "lease lost (host died or restarted): requeued; the next run resumes from the last checkpoint"));
        await tx.CommitAsync(ct);
        return ids.Count;
    }

    public async Task<JobRecord?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await QueryOne(c, null, $"SELECT {Columns} FROM jobs WHERE id = @id", ct, ("id", id));
    }

    public async Task<JobRecord?> FindByIdempotencyKeyAsync(string key, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await QueryOne(c, null, ByKey, ct, ("key", key));
    }

    public async Task<IReadOnlyList<JobRecord>> ListAsync(int limit = 200, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = Command(c, null, $"SELECT {Columns} FROM jobs ORDER BY seq DESC LIMIT @limit", ("limit", (long)limit));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<JobRecord>();
        while (await r.ReadAsync(ct)) list.Add(Read(r));
        return list;
    }

    public async Task<IReadOnlyList<LogLine>> GetLogsAsync(string id, long afterSeq = 0, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = Command(c, null, "SELECT seq, time, text FROM job_logs WHERE job_id = @id AND seq > @after ORDER BY seq", ("id", id), ("after", afterSeq));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<LogLine>();
        while (await r.ReadAsync(ct))
            list.Add(new LogLine(Convert.ToInt64(r.GetValue(0)), DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(1))), r.GetString(2)));
        return list;
    }

    public async Task<IReadOnlyList<MetricPoint>> GetMetricHistoryAsync(string id, int maxPoints = 0, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        // Every k-th point by position, k = ceil(total / maxPoints), the last, and every epoch's end (its means and
        // validation are reported at that step only, and every k-th point would keep one in k of them), chosen in the
        // database in one query: the rest never leaves it. So a thinned history holds up to maxPoints + epochs points.
        await using var cmd = maxPoints <= 0
            ? Command(c, null, "SELECT step, metrics FROM job_points WHERE job_id = @id ORDER BY seq", ("id", id))
            : Command(c, null,
                "SELECT step, metrics FROM (SELECT step, metrics, seq, ROW_NUMBER() OVER (ORDER BY seq) AS n, COUNT(*) OVER () AS total " +
                "FROM job_points WHERE job_id = @id) t WHERE (n - 1) % ((total + @max - 1) / @max) = 0 OR n = total OR metrics LIKE '%\"epoch_%' ORDER BY seq",
                ("id", id), ("max", (long)maxPoints));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<MetricPoint>();
        while (await r.ReadAsync(ct))
            list.Add(Point(r, 0));
        return list;
    }

    private static async Task<(long Seq, MetricPoint Point)?> LastPoint(DbConnection c, DbTransaction tx, string id, CancellationToken ct)
    {
        await using var cmd = Command(c, tx, "SELECT seq, step, metrics FROM job_points WHERE job_id = @id ORDER BY seq DESC LIMIT 1", ("id", id));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) return null;
        return (Convert.ToInt64(r.GetValue(0)), Point(r, 1));
    }

    /// <summary>A history point from the reader's columns <paramref name="first"/> (step) and the one after it (metrics JSON).</summary>
    private static MetricPoint Point(DbDataReader r, int first) =>
        new(Convert.ToInt64(r.GetValue(first)), JsonSerializer.Deserialize<Dictionary<string, double>>(r.GetString(first + 1), Json)!);

    private static JobRecord Read(DbDataReader r)
    {
        string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        long? L(int i) => r.IsDBNull(i) ? null : Convert.ToInt64(r.GetValue(i));
        DateTimeOffset? T(int i) => L(i) is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        return new JobRecord
        {
            Id = r.GetString(0), Name = r.GetString(1), Device = r.GetString(2), Spec = r.GetString(3),
            State = JobStates.FromDb(r.GetString(4)), IdempotencyKey = S(5), Owner = S(6), LeaseExpires = T(7),
            Attempts = (int)L(8)!.Value, CancelRequested = L(9) != 0, Error = S(10),
            Progress = S(11) is { } p ? JsonSerializer.Deserialize<JobProgress>(p, Json) : null,
            Metrics = S(12) is { } m ? JsonSerializer.Deserialize<Dictionary<string, double>>(m, Json)! : new Dictionary<string, double>(),
            Artifacts = S(13) is { } a ? JsonSerializer.Deserialize<List<string>>(a, Json)! : [],
            Created = T(14)!.Value, Started = T(15), Finished = T(16), GracefulReleases = (int)(L(17) ?? 0),
        };
    }

    private static async Task<JobRecord?> QueryOne(DbConnection c, DbTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] ps)
    {
        await using var cmd = Command(c, tx, sql, ps);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Read(r) : null;
    }

    protected static async Task<int> Exec(DbConnection c, DbTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] ps)
    {
        await using var cmd = Command(c, tx, sql, ps);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<object?> Scalar(DbConnection c, DbTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] ps)
    {
        await using var cmd = Command(c, tx, sql, ps);
        var v = await cmd.ExecuteScalarAsync(ct);
        return v is DBNull ? null : v;
    }

    private static DbCommand Command(DbConnection c, DbTransaction? tx, string sql, params (string Name, object? Value)[] ps)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in ps)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            // Npgsql cannot infer a type for a bare NULL compared with a text column.
            if (value is null) p.DbType = DbType.String;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }
}
