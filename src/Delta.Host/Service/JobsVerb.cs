using System.CommandLine;
using System.Globalization;
using Delta.Host.Cli;
using Delta.Service.Jobs;

namespace Delta.Host.Service;

/// <summary>`delta jobs submit|list|show|cancel|logs`: talks to a running `delta serve` over its HTTP API.</summary>
public static class JobsVerb
{
    public static Command Create(CliApp app)
    {
        var cmd = new Command("jobs", "Submit and follow jobs of a running `delta serve` (Service:Url, Service:Token from configuration)");
        var file = new Argument<string>("job") { Description = "job file (JSON), validated by the service like `delta train` validates it" };
        var submit = new Command("submit", "Queue a training job") { file };
        submit.SetAction((p, ct) => Run(app, p, async (c, json) =>
        {
            var path = Path.GetFullPath(p.GetValue(file)!);
            if (!File.Exists(path)) throw new BadInputException($"Job file not found: {path}");
            var body = await c.SubmitAsync(await File.ReadAllTextAsync(path, ct), ct);
            if (json) Console.Out.WriteLine(body);
            else { var j = JobsClient.Parse<JobRecord>(body); Console.Out.WriteLine($"{j.Id}  {j.Name}  {j.State.ToDb()}"); }
        }));
        var list = new Command("list", "List jobs, newest first");
        list.SetAction((p, ct) => Run(app, p, async (c, json) =>
        {
            var body = await c.ListAsync(ct);
            if (json) { Console.Out.WriteLine(body); return; }
            Output.WriteTable(["id", "name", "state", "progress", "device", "attempts"],
                JobsClient.Parse<List<JobRecord>>(body).Select(j => (IReadOnlyList<string>)[j.Id, j.Name, j.State.ToDb(), Progress(j), j.Device, j.Attempts.ToString(CultureInfo.InvariantCulture)]));
        }));
        var id = new Argument<string>("id") { Description = "job id (from `jobs submit` or `jobs list`)" };
        var show = new Command("show", "Show one job: state, progress, metrics, artifacts, error") { id };
        show.SetAction((p, ct) => Run(app, p, async (c, json) =>
        {
            var body = await c.ShowAsync(p.GetValue(id)!, ct);
            if (json) { Console.Out.WriteLine(body); return; }
            var j = JobsClient.Parse<JobRecord>(body);
            Console.Out.WriteLine($"id        {j.Id}\nname      {j.Name}\nstate     {j.State.ToDb()}\ndevice    {j.Device}\nattempts  {j.Attempts}\nprogress  {Progress(j)}");
            if (j.Error is not null) Console.Out.WriteLine($"error     {j.Error}");
            Output.WriteMetrics(j.Metrics.Count > 0 ? j.Metrics : j.Progress?.Metrics ?? new Dictionary<string, double>());
            for (var i = 0; i < j.Artifacts.Count; i++) Console.Out.WriteLine($"artifact  {i}: {j.Artifacts[i]}  (GET /api/jobs/{j.Id}/artifacts/{i})");
        }));
        var cancelId = new Argument<string>("id") { Description = "job id" };
        var cancel = new Command("cancel", "Cancel a job (a running one stops within seconds)") { cancelId };
        cancel.SetAction((p, ct) => Run(app, p, async (c, json) =>
        {
            var body = await c.CancelAsync(p.GetValue(cancelId)!, ct);
            if (json) Console.Out.WriteLine(body);
            else { var j = JobsClient.Parse<JobRecord>(body); Console.Out.WriteLine($"{j.Id}  {(j.State == JobState.Running ? "cancelling" : j.State.ToDb())}"); }
        }));
        var logsId = new Argument<string>("id") { Description = "job id" };
        var follow = new Option<bool>("--follow", "-f") { Description = "keep printing new lines until the job ends" };
        var logs = new Command("logs", "Print a job's log lines") { logsId, follow };
        logs.SetAction((p, ct) => Run(app, p, async (c, json) =>
        {
            var jobId = p.GetValue(logsId)!;
            long after = 0;
            while (true)
            {
                var lines = JobsClient.Parse<List<LogLine>>(await c.LogsAsync(jobId, after, ct));
                foreach (var l in lines) Console.Out.WriteLine($"{l.Time:HH:mm:ss} {l.Text}");
                if (lines.Count > 0) after = lines[^1].Seq;
                if (!p.GetValue(follow) || JobsClient.Parse<JobRecord>(await c.ShowAsync(jobId, ct)).State.IsTerminal()) break;
                await Task.Delay(1000, ct);
            }
        }));
        cmd.Subcommands.Add(submit);
        cmd.Subcommands.Add(list);
        cmd.Subcommands.Add(show);
        cmd.Subcommands.Add(cancel);
        cmd.Subcommands.Add(logs);
        return cmd;
    }

    private static Task<int> Run(CliApp app, ParseResult parse, Func<JobsClient, bool, Task> body) => app.Guard(async () =>
    {
        var (url, token) = ServiceConfiguration.Client(ServiceConfiguration.Load());
        using var client = new JobsClient(url, token);
        try { await body(client, parse.GetValue(CliApp.JsonOption)); }
        catch (JobsApiException e) when (e.BadInput) { throw new BadInputException(e.Message); }
        catch (JobsApiException e) { Console.Error.WriteLine($"delta: {e.Message}"); return ExitCodes.Failure; }
        return ExitCodes.Ok;
    });

    private static string Progress(JobRecord j) => j.Progress is { } p
        ? string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps} epoch {p.Epoch}/{p.Epochs}{(p.EtaSeconds is { } s && j.State == JobState.Running ? $" eta {TimeSpan.FromSeconds(Math.Round(s))}" : "")}")
        : "-";
}
