using System.Threading.Channels;
using Delta.Abstractions.Plugins;
using Delta.Service.Jobs;
using Delta.Service.Store;
using Microsoft.Extensions.Logging;

namespace Delta.Service.Worker;

/// <summary>
/// Progress and log lines from the training thread, written to the store in order by one pump task, so
/// the training loop never waits on the database and reports never arrive out of order. Progress reports that
/// queued up while the pump was writing go in one transaction (one commit, one fsync, however many steps): a job
/// that steps faster than the database commits no longer builds an ever longer queue behind it.
/// </summary>
internal sealed class JobEventSink : IProgress<TrainProgress>, IAsyncDisposable
{
    private readonly Channel<object> queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IJobStore store;
    private readonly string jobId, owner;
    private readonly ILogger log;
    private readonly Task pump;
    /// <summary>The first progress write of this attempt replaces history points from its first step on (a resumed
    /// attempt repeats the steps after its checkpoint).</summary>
    private bool firstProgressWrite = true;
    private const int MaxReportsPerWrite = 10_000;

    public JobEventSink(IJobStore store, string jobId, string owner, ILogger log)
    {
        (this.store, this.jobId, this.owner, this.log) = (store, jobId, owner, log);
        pump = Task.Run(PumpAsync);
    }

    public void Report(TrainProgress p) => queue.Writer.TryWrite(new JobProgress
    {
        Epoch = p.Epoch, Epochs = p.Epochs, Step = p.Step, TotalSteps = p.TotalSteps, StepsPerSecond = p.StepsPerSecond,
        EtaSeconds = p.Eta?.TotalSeconds, Metrics = p.Metrics.Where(kv => double.IsFinite(kv.Value)).ToDictionary(),
    });

    public void Log(string line) => queue.Writer.TryWrite(line);

    /// <summary>Waits until everything reported so far is in the store.</summary>
    public async Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (queue.Writer.TryWrite(done)) await done.Task;
    }

    private async Task PumpAsync()
    {
        await foreach (var item in queue.Reader.ReadAllAsync())
        {
            try
            {
                switch (item)
                {
                    case JobProgress p:
                        var reports = new List<JobProgress> { p };
                        while (reports.Count < MaxReportsPerWrite && queue.Reader.TryPeek(out var next) && next is JobProgress more)
                        {
                            queue.Reader.TryRead(out _);
                            reports.Add(more);
                        }
                        await store.UpdateProgressAsync(jobId, owner, reports, replaceFromFirstStep: firstProgressWrite);
                        firstProgressWrite = false;
                        break;
                    case string s: await store.AppendLogAsync(jobId, s); break;
                    case TaskCompletionSource t: t.TrySetResult(); break;
                }
            }
            catch (Exception e) { log.LogWarning(e, "Could not record progress of job {Id}", jobId); }
        }
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await pump;
    }
}
