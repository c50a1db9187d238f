using Delta.Abstractions.Training;
using Delta.Data.IO;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Host.Training;

/// <summary>Where a run was when its checkpoint was written: resume continues at <see cref="Epoch"/>
/// after skipping <see cref="StepInEpoch"/> batches of it (the batch stream is deterministic per epoch).</summary>
public sealed record CheckpointPosition(int Epoch, long StepInEpoch, long Step, double? BestMonitor, int EpochsWithoutImprovement);

/// <summary>
/// One checkpoint file: position, task tensors (ICheckpointable), optimizer state and the torch RNG state.
/// Written atomically (<see cref="AtomicFile"/>: a uniquely named temporary file in the same folder, flushed to disk,
/// renamed over the old one), so a crash at any moment leaves either the previous checkpoint or the new one, never a
/// torn file, and two writers never share a temporary file.
/// Layout: magic, version, position fields, task state dict, RNG states (libtorch's default CPU generator under "rng",
/// the loop's own generators under "generator.i"), optimizer state.
/// </summary>
public static class Checkpoint
{
    public const string FileName = "checkpoint.dckpt";
    private const string Magic = "DELTACKPT";
    private const int Version = 1;

    public static string PathIn(string dir) => System.IO.Path.Combine(dir, FileName);

    public static void Save(string dir, CheckpointPosition position, IReadOnlyDictionary<string, Tensor>? taskState, OptimizerHelper optimizer,
        IReadOnlyList<Generator> generators)
    {
        Directory.CreateDirectory(dir);
        var target = PathIn(dir);
        AtomicFile.Write(target, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(position.Epoch);
            writer.Write(position.StepInEpoch);
            writer.Write(position.Step);
            writer.Write(position.BestMonitor.HasValue);
            writer.Write(position.BestMonitor ?? 0);
            writer.Write(position.EpochsWithoutImprovement);
            var dict = new Dictionary<string, Tensor>();
            if (taskState is not null)
                foreach (var (k, v) in taskState) dict[k] = v;
            nn.Module.save_state_dict(writer, dict);
            Dictionary<string, Tensor> rng;
            using (DefaultGenerator.Held()) rng = new Dictionary<string, Tensor> { ["rng"] = get_rng_state() };
            for (int i = 0; i < generators.Count; i++) rng[GeneratorKey(i)] = generators[i].get_state();
            try { nn.Module.save_state_dict(writer, rng); }
            finally { foreach (var t in rng.Values) t.Dispose(); }
            optimizer.save_state_dict(writer);
            writer.Flush();
        });
    }

    public static bool Exists(string dir) => File.Exists(PathIn(dir));

    private const string GeneratorPrefix = "generator.";
    private static string GeneratorKey(int index) => GeneratorPrefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Restores the RNG and optimizer state and the task tensors; returns the position.</summary>
    public static CheckpointPosition Load(string dir, Func<IReadOnlyDictionary<string, Tensor>, bool> applyTaskState, OptimizerHelper optimizer,
        IReadOnlyList<Generator> generators)
    {
        var path = PathIn(dir);
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            if (reader.ReadString() != Magic) throw new InvalidDataException("not a Delta checkpoint (bad magic).");
            var version = reader.ReadInt32();
            if (version != Version) throw new InvalidDataException($"checkpoint format version {version} is not supported (expected {Version}).");
            var epoch = reader.ReadInt32();
            var stepInEpoch = reader.ReadInt64();
            var step = reader.ReadInt64();
            var hasBest = reader.ReadBoolean();
            var best = reader.ReadDouble();
            var patience = reader.ReadInt32();
            var task = ReadStateDict(reader);
            try { applyTaskState(task); }
            finally { foreach (var t in task.Values) t.Dispose(); }
            var rng = ReadStateDict(reader);
            try
            {
                var saved = rng.Keys.Count(k => k.StartsWith(GeneratorPrefix, StringComparison.Ordinal));
                var expected = generators.Count;
                // None saved: a checkpoint from before loops declared their generators; they then start from their
                // seeds, as every resume did then. Some saved but not as many: another job's checkpoint.
                if (saved != 0 && saved != expected)
                    throw new InvalidDataException($"it holds the states of {saved} task generator(s), the job draws from {expected}.");
                using (DefaultGenerator.Held()) set_rng_state(rng["rng"]);
                for (int i = 0; i < saved; i++) generators[i].set_state(rng[GeneratorKey(i)]);
            }
            finally { foreach (var t in rng.Values) t.Dispose(); }
            optimizer.load_state_dict(reader);
            return new CheckpointPosition(epoch, stepInEpoch, step, hasBest ? best : null, patience);
        }
        // Damaged bytes fail wherever the reader happens to be: a missing entry (KeyNotFoundException), a tensor type
        // that does not exist (TorchSharp's ExternalException), a short read. Whatever it is, the user needs the file.
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException($"{path}: cannot resume from this checkpoint: {e.Message}", e);
        }
    }

    /// <summary>Reads one record written by <see cref="nn.Module.save_state_dict"/> (count, then key + tensor).</summary>
    private static Dictionary<string, Tensor> ReadStateDict(BinaryReader reader)
    {
        var count = ReadLeb128(reader);
        var dict = new Dictionary<string, Tensor>((int)count);
        for (long i = 0; i < count; i++)
        {
            var key = reader.ReadString();
            dict[key] = Tensor.Load(reader);
        }
        return dict;
    }

    /// <summary>The record count of save_state_dict is an unsigned LEB128 varint (TorchSharp's codec is internal).</summary>
    private static long ReadLeb128(BinaryReader reader)
    {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            var b = reader.ReadByte();
            result |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException("malformed record count.");
    }
}
