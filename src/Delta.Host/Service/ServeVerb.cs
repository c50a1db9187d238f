using System.CommandLine;
using Delta.Host.Cli;
using Delta.Service;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Delta.Host.Service;

/// <summary>`delta serve [--urls URL]`: the background training service (job queue, worker, HTTP API, status page).</summary>
public static class ServeVerb
{
    public static Command Create(CliApp app)
    {
        var urls = new Option<string?>("--urls") { Description = "where to listen (default http://127.0.0.1:5077; another address needs Service:Token, e.g. DELTA_Service__Token)" };
        var cmd = new Command("serve", "Run the training service: persistent job queue (SQLite or PostgreSQL), worker, HTTP API and status page") { urls };
        cmd.SetAction((parse, ct) => app.Guard(async () =>
        {
            // --device is a global option (train, eval, predict); a server's devices are its configuration, one worker each.
            if (parse.GetValue(CliApp.DeviceOption) is { } device)
                throw new BadInputException($"serve does not take --device ({device}): its workers run on Service:Devices from configuration (e.g. DELTA_Service__Devices__0={device}).");
            var env = app.Env;
            var options = ServiceConfiguration.Options(env, ServiceConfiguration.Load());
            if (parse.GetValue(urls) is { Length: > 0 } u) options.Urls = u;
            var web = await DeltaService.BuildAsync(options, new HostJobExecutor(env), new HostJobValidator(env),
                logging => logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
                    .AddFilter("Microsoft", LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information), ct: ct);
            Console.Error.WriteLine($"delta: serving on {options.Urls} (store {options.Store}, state {options.StateDir}, host {options.HostId})");
            await web.StartAsync(ct);
            // Ctrl+C cancels ct, SIGTERM stops the web host: both end in a graceful stop (checkpoint, requeue).
            await web.WaitForShutdownAsync(ct);
            await web.DisposeAsync();
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
