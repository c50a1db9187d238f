using System.Threading.Channels;
using Delta.Abstractions.Plugins;
using Delta.Service.Jobs;
using Delta.Service.Store;
using Microsoft.Extensions.Logging;

namespace Delta.Service.Worker;

/// <summary>
/// Progress and log lines from the training thread, written to the store in order by one pump task, so
/// the training loop never waits on the database and reports never arrive out of order.
/// </summary>
internal sealed class JobEventSink : IProgress<TrainProgress>, IAsyncDisposable
{
    private readonly Channel<object> queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IJobStore store;
    private readonly string jobId, owner;
    private readonly ILogger log;
    private readonly Task pump;

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
                    case JobProgress p: await store.UpdateProgressAsync(jobId, owner, p); break;
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
