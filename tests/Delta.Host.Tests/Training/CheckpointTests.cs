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

    /// <summary>A real checkpoint (Adam moments, a loop generator), damaged in the ways a torn copy or a disk error leaves
    /// it. Every one is refused naming the file; a missing RNG entry (KeyNotFoundException) and a tensor of a type
    /// that does not exist (TorchSharp's own exception) escaped the old filter without it.</summary>
    [Theory]
    [InlineData("cut in half")]
    [InlineData("RNG entry renamed")]
    [InlineData("tensor type garbled")]
    public void A_damaged_checkpoint_is_refused_naming_the_file(string damage)
    {
        using var model = nn.Linear(3, 2);
        using var optimizer = optim.Adam(model.parameters(), 0.1);
        using (var loss = model.forward(ones(4, 3)).sum()) loss.backward();
        optimizer.step();                                                  // Adam has moment tensors to save now
        using var generator = new Generator(7);
        Checkpoint.Save(dir, Position, model.state_dict(), optimizer, [generator]);
        var path = Checkpoint.PathIn(dir);
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "cut in half": bytes = bytes[..(bytes.Length / 2)]; break;
            case "RNG entry renamed": bytes[IndexAfter(bytes, "\u0003rng") - 1] = (byte)'X'; break;
            // The byte after a key is its tensor's ScalarType code; 0x7F names none.
            case "tensor type garbled": bytes[IndexAfter(bytes, "\u0006weight")] = 0x7F; break;
        }
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir, _ => true, optimizer, [generator]));
        Assert.StartsWith($"{path}: cannot resume from this checkpoint:", e.Message);
    }

    /// <summary>The index just past the first occurrence of <paramref name="text"/>'s bytes.</summary>
    private static int IndexAfter(byte[] bytes, string text)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes(text);
        var at = bytes.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, $"'{text}' not in the checkpoint");
        return at + needle.Length;
    }
}
