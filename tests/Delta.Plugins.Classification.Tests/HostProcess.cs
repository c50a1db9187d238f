using System.Diagnostics;
using Delta.Abstractions;

namespace Delta.Plugins.Classification.Tests;

/// <summary>Runs the built host (`delta …`) as a separate process with its data, patches and outputs under one temp
/// folder and the plugins from the repository's plugins/ — what a user's command line does.</summary>
internal static class HostProcess
{
    public static (int Code, string Out, string Err) Run(string dir, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var repo = AssetPaths.RepoRoot ?? throw new InvalidOperationException("tests must run inside the repository");
        var config = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!);   // bin/<Release or Debug>/net10.0
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        psi.ArgumentList.Add(Path.Combine(repo, "src", "Delta.Host", "bin", config, "net10.0", "Delta.Host.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add($"--Delta:DataRoot={Path.Combine(dir, "data")}");
        psi.ArgumentList.Add($"--Delta:PatchesPath={Path.Combine(dir, "patches")}");
        psi.ArgumentList.Add($"--Delta:OutputPath={Path.Combine(dir, "runs")}");
        psi.ArgumentList.Add($"--Delta:PluginsPath={Path.Combine(repo, "plugins")}");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "host did not finish in 3 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
