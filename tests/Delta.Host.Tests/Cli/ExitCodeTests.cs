using Delta.Abstractions;
using Delta.Abstractions.Training;
using Delta.Data.Images;
using Delta.Data.Voc;
using Delta.Host;
using Delta.Host.Cli;
using Delta.Host.Hosting;
using Delta.Host.Plugins;
using Microsoft.Extensions.Logging.Abstractions;

namespace Delta.Host.Tests.Cli;

/// <summary>What a verb body throws decides the exit code: the user's input (from the host, a data reader or a
/// plugin) is 2, a failure while doing valid work is 1.</summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("delta-exit-").FullName;
    public void Dispose() => Directory.Delete(temp, recursive: true);

    public static TheoryData<string, int> Cases => new()
    {
        { "host", ExitCodes.BadInput },
        { "voc", ExitCodes.BadInput },
        { "image", ExitCodes.BadInput },
        { "plugin", ExitCodes.BadInput },
        { "nan", ExitCodes.Failure },
        { "bug", ExitCodes.Failure },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task InputProblemsExit2AndFailuresExit1(string thrown, int expected)
    {
        var plugins = Directory.CreateDirectory(Path.Combine(temp, "plugins")).FullName;
        var paths = new DeltaPaths(temp, Path.Combine(temp, "patches"), Path.Combine(temp, "runs"), plugins);
        using var env = new CliEnvironment(paths, PluginCatalog.Load(plugins, CliApp.BuiltInVerbs), NullLoggerFactory.Instance);
        var app = new CliApp(env);
        Exception e = thrown switch
        {
            "host" => new BadInputException("options.x must be ≥ 1"),
            "voc" => new VocFormatException("/data/VOC2007/Annotations/1.xml", "no <size>"),
            "image" => new ImageDecodeException("/data/a.jpg", "not an image"),
            "plugin" => new InputException("mode 'delta' needs delta.stages ≥ 1"),
            "nan" => new NonFiniteLossException(3, new Dictionary<string, double> { ["ce"] = double.NaN }),
            _ => new InvalidOperationException("a bug"),
        };
        var error = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try { Assert.Equal(expected, await app.Guard(() => throw e)); }
        finally { Console.SetError(error); }
        Assert.Contains(e.Message.Split(':')[0], captured.ToString());            // the file or option is named
    }

    /// <summary>--device is a global option, and serve ignored it: its workers run on Service:Devices. It is refused,
    /// saying where devices are set.</summary>
    [Fact]
    public async Task ServeRefusesDeviceAndSaysWhereDevicesAreSet()
    {
        var plugins = Directory.CreateDirectory(Path.Combine(temp, "plugins")).FullName;
        var paths = new DeltaPaths(temp, Path.Combine(temp, "patches"), Path.Combine(temp, "runs"), plugins);
        using var env = new CliEnvironment(paths, PluginCatalog.Load(plugins, CliApp.BuiltInVerbs), NullLoggerFactory.Instance);
        var error = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try { Assert.Equal(ExitCodes.BadInput, await new CliApp(env).RunAsync(["serve", "--device", "cuda:1"], CancellationToken.None)); }
        finally { Console.SetError(error); }
        Assert.Contains("serve does not take --device (cuda:1): its workers run on Service:Devices", captured.ToString());
    }
}
