using System.Diagnostics;

namespace Delta.Host.Tests.Support;

/// <summary>Runs the real host executable (dotnet Delta.Host.dll) with folders confined to a temp root.</summary>
public sealed record HostRun(int ExitCode, string Stdout, string Stderr);

public static class HostProcess
{
    public static HostRun Run(string tempRoot, string pluginsPath, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(TestPaths.HostDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DELTA_Delta__PluginsPath"] = pluginsPath;
        psi.Environment["DELTA_Delta__DataRoot"] = Path.Combine(tempRoot, "data");
        psi.Environment["DELTA_Delta__PatchesPath"] = Path.Combine(tempRoot, "patches");
        psi.Environment["DELTA_Delta__OutputPath"] = Path.Combine(tempRoot, "runs");
        return Wait(psi);
    }

    /// <summary>Any program (e.g. dotnet build), output captured.</summary>
    public static HostRun Exec(string program, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        return Wait(psi);
    }

    private static HostRun Wait(ProcessStartInfo psi)
    {
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(entireProcessTree: true); throw new TimeoutException($"{psi.FileName} {string.Join(' ', psi.ArgumentList)} did not finish"); }
        return new HostRun(p.ExitCode, stdout.Result, stderr.Result);
    }
}
