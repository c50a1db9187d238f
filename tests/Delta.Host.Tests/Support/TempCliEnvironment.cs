using Delta.Host.Cli;
using Delta.Host.Hosting;
using Delta.Host.Plugins;
using Microsoft.Extensions.Logging.Abstractions;

namespace Delta.Host.Tests.Support;

/// <summary>A <see cref="CliEnvironment"/> over a fresh temp folder: a data root holding an empty dataset "set", and the
/// named built test plugins.</summary>
public sealed class TempCliEnvironment : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("delta-env-").FullName;
    public CliEnvironment Env { get; }

    public TempCliEnvironment(params string[] plugins)
    {
        var data = Directory.CreateDirectory(Path.Combine(Root, "data"));
        data.CreateSubdirectory("set");
        var pluginsFolder = TestPaths.PluginsFolder(Root, plugins);
        Env = new CliEnvironment(new DeltaPaths(data.FullName, Path.Combine(Root, "patches"), Path.Combine(Root, "runs"), pluginsFolder),
            PluginCatalog.Load(pluginsFolder, CliApp.BuiltInVerbs), NullLoggerFactory.Instance);
    }

    public void Dispose()
    {
        Env.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();    // pooled connections keep SQLite files under Root open
        Directory.Delete(Root, recursive: true);
    }
}
