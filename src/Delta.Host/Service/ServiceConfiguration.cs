using Delta.Abstractions;
using Delta.Host.Cli;
using Delta.Host.Jobs;
using Delta.Service;
using Microsoft.Extensions.Configuration;

namespace Delta.Host.Service;

/// <summary>
/// Section "Service" of the host's configuration, layered as Program.cs layers it: appsettings.json,
/// DELTA_ environment variables (DELTA_Service__Token=...), then --Service:Key=value arguments.
/// Keep the token out of the command line (other users can read it with ps): use the environment or the file.
/// </summary>
public static class ServiceConfiguration
{
    public static IConfiguration Load() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
        .AddEnvironmentVariables("DELTA_")
        .AddCommandLine(Environment.GetCommandLineArgs().Skip(1).Where(a => a.StartsWith("--", StringComparison.Ordinal) && a.Contains(':') && a.Contains('=')).ToArray())
        .Build();

    public static ServiceOptions Options(CliEnvironment env, IConfiguration configuration)
    {
        var o = new ServiceOptions();
        var section = configuration.GetSection("Service");
        section.Bind(o);
        // Bind adds a configured list to the default ["cpu"] instead of replacing it, so "Devices": ["cuda:0"] also
        // started a CPU worker: the configured list, when there is one, is the list.
        if (section.GetSection(nameof(ServiceOptions.Devices)).Get<List<string>>() is { Count: > 0 } devices) o.Devices = devices;
        var baseDir = AssetPaths.RepoRoot ?? Directory.GetCurrentDirectory();
        o.StateDir = Path.GetFullPath(Path.Combine(baseDir, o.StateDir));
        // Downloads: the run outputs and patches the plugins write, and the service's own job folders.
        o.ArtifactRoots = [.. o.ArtifactRoots, env.Paths.OutputPath, env.Paths.PatchesPath];
        // Workers claim jobs by exact device name and jobs are queued under canonical names (HostJobValidator), so the
        // workers' names are made canonical too ("CUDA" → "cuda:0"); a device this machine lacks stops the start here.
        // One worker per device: "cuda" and "cuda:0" are one GPU, and two workers on it would run two jobs at once.
        o.Devices = [.. o.Devices.Select(d => DeviceParser.Name(DeviceParser.Parse(d, "Service:Devices"))).Distinct(StringComparer.Ordinal)];
        return o;
    }

    /// <summary>Base URL the `jobs` verbs call: Service:Url, else the first of Service:Urls with wildcards made loopback.</summary>
    public static (Uri BaseUrl, string? Token) Client(IConfiguration configuration)
    {
        var section = configuration.GetSection("Service");
        var url = section["Url"] is { Length: > 0 } u ? u
            : (section["Urls"] is { Length: > 0 } us ? us : new ServiceOptions().Urls).Split(';')[0]
                .Replace("://0.0.0.0", "://127.0.0.1").Replace("://*", "://127.0.0.1").Replace("://+", "://127.0.0.1").Replace("://[::]", "://[::1]");
        return (new Uri(url.TrimEnd('/') + "/"), section["Token"] is { Length: > 0 } t ? t : null);
    }
}
