using Npgsql;

namespace Delta.Service.Tests.Support;

/// <summary>A fresh schema per test, so tests sharing one database never see each other's jobs.</summary>
public sealed class PgSchema : IDisposable
{
    public string Name { get; } = "t_" + Guid.NewGuid().ToString("N")[..12];
    public string ConnectionString { get; }

    public PgSchema()
    {
        var baseCs = PostgresFactAttribute.ConnectionString;
        using (var c = new NpgsqlConnection(baseCs))
        {
            c.Open();
            using var cmd = new NpgsqlCommand($"CREATE SCHEMA {Name}", c);
            cmd.ExecuteNonQuery();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(baseCs) { SearchPath = Name }.ToString();
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        using var c = new NpgsqlConnection(PostgresFactAttribute.ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Name} CASCADE", c);
        cmd.ExecuteNonQuery();
    }
}
