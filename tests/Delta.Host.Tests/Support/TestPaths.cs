using Delta.Abstractions;

namespace Delta.Host.Tests.Support;

/// <summary>Where the build put the things the tests use.</summary>
public static class TestPaths
{
    public static string RepoRoot => AssetPaths.RepoRoot ?? throw new InvalidOperationException("Tests run inside the repository checkout.");

    /// <summary>Release or Debug, whichever built this test assembly.</summary>
    public static string Configuration => AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";

    /// <summary>bin/TestPlugins/&lt;Name&gt;/ as the test project's build left it (see TestPlugins/*/*.csproj).</summary>
    public static string BuiltTestPlugins => Path.GetFullPath(Path.Combine(RepoRoot, "tests", "Delta.Host.Tests", "bin", "TestPlugins"));

    public static string HostDll => Path.Combine(RepoRoot, "src", "Delta.Host", "bin", Configuration, "net10.0", "Delta.Host.dll");

    /// <summary>Copies the named built test plugins into a fresh temp plugins folder.</summary>
    public static string PluginsFolder(string tempRoot, params string[] names)
    {
        var folder = Path.Combine(tempRoot, "plugins");
        foreach (var name in names)
        {
            var source = Path.Combine(BuiltTestPlugins, name);
            if (!Directory.Exists(source)) throw new DirectoryNotFoundException($"{source} is missing: build tests/Delta.Host.Tests first.");
            var target = Directory.CreateDirectory(Path.Combine(folder, name)).FullName;
            foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
        }
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static readonly string[] AllTestPlugins =
        ["EchoPlugin", "EchoTwinPlugin", "ThrowingPlugin", "OldContractPlugin", "MissingDependencyPlugin", "VerbClashPlugin", "NoTaskPlugin"];
}
