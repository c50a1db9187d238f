namespace Delta.Service.Tests.Support;

/// <summary>
/// A test that needs PostgreSQL (connection string in DELTA_TEST_PG; scripts/postgres.sh prints one).
/// Without it the test is skipped locally, but in CI (CI=true) it runs and fails with a clear message.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DELTA_TEST_PG")) && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = "DELTA_TEST_PG is not set (run: eval \"$(scripts/postgres.sh)\"); in CI this test fails instead.";
    }

    public static string ConnectionString => Environment.GetEnvironmentVariable("DELTA_TEST_PG") is { Length: > 0 } cs ? cs
        : throw new InvalidOperationException("DELTA_TEST_PG is not set: CI must run scripts/postgres.sh before the tests (it starts PostgreSQL on loopback and prints the connection string).");
}
