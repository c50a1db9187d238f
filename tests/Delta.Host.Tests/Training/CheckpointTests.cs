using System.Collections;
using Delta.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Host.Tests.Training;

/// <summary>The checkpoint file itself: concurrent writers, and what a damaged file reports.</summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-checkpoint-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly CheckpointPosition Position = new(1, 2, 3, null, 0);

    /// <summary>Task state whose enumeration, which Save does with its temporary file open, waits until both
    /// writers got there: the two files are open at the same time.</summary>
    private sealed class MeetingState(Barrier meeting, Tensor weight) : IReadOnlyDictionary<string, Tensor>
    {
        public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
        {
            meeting.SignalAndWait(TimeSpan.FromSeconds(5));
            yield return new("weight", weight);
        }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
        public int Count => 1;
        public bool ContainsKey(string key) => key == "weight";
        public bool TryGetValue(string key, out Tensor value) { value = weight; return key == "weight"; }
        public Tensor this[string key] => weight;
        public IEnumerable<string> Keys => ["weight"];
        public IEnumerable<Tensor> Values => [weight];
    }

    /// <summary>Two jobs of one process checkpointing into one folder (or two containers with the same PID sharing it)
    /// had one temporary name: the second writer could not open it, or truncated the first one's.</summary>
    [Fact]
    public async Task Two_writers_at_once_both_write_a_whole_checkpoint()
    {
        using var meeting = new Barrier(2);
        var writers = Enumerable.Range(0, 2).Select(i => Task.Run(() =>
        {
            using var model = nn.Linear(2, 1);
            using var optimizer = optim.SGD(model.parameters(), 0.1);
            using var weight = full(2, 2, (float)i);
            Checkpoint.Save(dir, Position, new MeetingState(meeting, weight), optimizer, []);
        })).ToArray();
        await Task.WhenAll(writers);

        using var loaded = nn.Linear(2, 1);
        using var loadedOptimizer = optim.SGD(loaded.parameters(), 0.1);
        float? value = null;
        Assert.Equal(Position, Checkpoint.Load(dir, state => { value = state["weight"][0, 0].item<float>(); return true; }, loadedOptimizer, []));
        Assert.Contains(value, new float?[] { 0, 1 });
        Assert.Equal([Checkpoint.FileName], Directory.GetFiles(dir).Select(Path.GetFileName));   // no temporary file left behind
    }
}
