using Delta.Abstractions;
using Microsoft.Extensions.Configuration;

namespace Delta.Host.Hosting;

/// <summary>
/// The folders the host works in, from configuration section "Delta" (appsettings.json, DELTA_ environment
/// variables such as DELTA_Delta__DataRoot, or --Delta:DataRoot=... on the command line). Relative values are
/// taken from the repository root (or the current directory outside a checkout).
/// </summary>
public sealed record DeltaPaths(string DataRoot, string PatchesPath, string OutputPath, string PluginsPath)
{
    public static DeltaPaths From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Delta");
        var baseDir = AssetPaths.RepoRoot ?? Directory.GetCurrentDirectory();
        string Resolve(string key, string fallback) => Path.GetFullPath(Path.Combine(baseDir, section[key] is { Length: > 0 } v ? v : fallback));
        return new DeltaPaths(Resolve("DataRoot", "data"), Resolve("PatchesPath", "patches"), Resolve("OutputPath", "runs"), Resolve("PluginsPath", "plugins"));
    }
}
