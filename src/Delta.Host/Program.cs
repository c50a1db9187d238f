using Delta.Host.Cli;
using Delta.Host.Hosting;
using Delta.Host.Plugins;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Configuration layers as .NET users expect: appsettings.json (next to the binary), DELTA_ environment
// variables (DELTA_Delta__DataRoot=...), then --Section:Key=value arguments, which are taken out of the
// arguments before the CLI parses the rest.
static bool IsConfigArg(string a) => a.StartsWith("--", StringComparison.Ordinal) && a.Contains(':') && a.Contains('=');
var configArgs = args.Where(IsConfigArg).ToArray();
var cliArgs = args.Where(a => !IsConfigArg(a)).ToArray();     // not Except(): that is a set operation and drops repeated words

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = configArgs,
    ContentRootPath = AppContext.BaseDirectory,
    DisableDefaults = true,
});
builder.Configuration.AddJsonFile("appsettings.json", optional: true);
builder.Configuration.AddEnvironmentVariables("DELTA_");
builder.Configuration.AddCommandLine(configArgs);
builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddSingleton(sp => DeltaPaths.From(sp.GetRequiredService<IConfiguration>()));
builder.Services.AddSingleton(sp => PluginCatalog.Load(sp.GetRequiredService<DeltaPaths>().PluginsPath, CliApp.BuiltInVerbs,
    sp.GetRequiredService<ILoggerFactory>().CreateLogger<PluginCatalog>()));
builder.Services.AddSingleton<CliEnvironment>();
builder.Services.AddSingleton<CliApp>();

using var host = builder.Build();
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
return await host.Services.GetRequiredService<CliApp>().RunAsync(cliArgs, cts.Token);
