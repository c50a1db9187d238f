using System.Collections.Concurrent;
using Delta.Abstractions.Backbones;
using Delta.Data.Datasets;
using Delta.Data.Transforms;
using static TorchSharp.torch;

namespace Delta.Data.Loading;

/// <summary>
/// Batches of a dataset, ready for a backbone: items resized to <c>Size</c>, greyscale expanded to RGB,
/// optional per-item <see cref="Transform"/> (augmentation) and horizontal flip, then the backbone's own
/// preprocessing — applied once per batch, on the device.
/// Order: a seeded permutation per epoch (deterministic given seed and epoch), or the dataset order.
/// In-memory datasets without a transform are sliced directly; otherwise items are decoded and transformed by
/// <see cref="Workers"/> threads into a bounded queue of at most <see cref="Prefetch"/> ready batches. Each item's
/// random generator is seeded from (seed, epoch, position) by a fixed function (<see cref="ItemSeeds"/>), so results do
/// not depend on which thread or which process ran it.
/// Tensors made on worker threads are detached from every dispose scope and owned by the batch, which the
/// consumer (the train loop) disposes. Leaving an epoch early stops the workers and frees queued batches.
/// For a CUDA device the workers put each decoded batch in page-locked (pinned) host memory, and the copy to the GPU
/// is asynchronous (non_blocking): it overlaps the previous step's GPU work instead of stalling the host, as PyTorch's
/// DataLoader(pin_memory=True) + .to(device, non_blocking=True) do. libtorch's pinned-memory allocator keeps the
/// buffer until the copy has finished, so disposing it right after enqueueing the copy is safe.
/// </summary>
public sealed class BatchLoader(IImageDataset data, IReadOnlyList<int> indices, int batchSize, int size, IInputPreprocessing preprocessing, Device device)
{
    public bool Shuffle { get; init; }
    public bool DropLast { get; init; }
    public bool HorizontalFlip { get; init; }
    public int Seed { get; init; }
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount - 1);
    public int Prefetch { get; init; } = 2;
    /// <summary>Per-item augmentation on CPU [C, H, W] in [0, 1] (e.g. <see cref="RandomResizedCrop"/>); its output is resized to Size if needed.</summary>
    public IImageTransform? Transform { get; init; }
    /// <summary>Pin worker-made batches and copy them asynchronously; on by default for CUDA devices (pinning needs CUDA).</summary>
    public bool PinMemory { get; init; } = device.type == TorchSharp.DeviceType.CUDA;

    public int Count => indices.Count;
    public long BatchesPerEpoch => DropLast ? indices.Count / batchSize : (indices.Count + batchSize - 1) / batchSize;
    /// <summary>Most batches that waited in the queue at once during the last epoch (never above <see cref="Prefetch"/>).</summary>
    public int PeakQueued { get; private set; }

    /// <summary>The item order of <paramref name="epoch"/> (before batching).</summary>
    public int[] Order(int epoch)
    {
        var order = indices.ToArray();
        var rng = new Random(unchecked(Seed * 7919 + epoch));
        if (Shuffle) for (int i = order.Length - 1; i > 0; i--) { var j = rng.Next(i + 1); (order[i], order[j]) = (order[j], order[i]); }
        return order;
    }

    public IEnumerable<ImageBatch> Epoch(int epoch)
    {
        if (batchSize <= 0) throw new InvalidOperationException($"batch size must be positive, got {batchSize}.");
        var order = Order(epoch);
        var flipRng = new Random(unchecked(Seed * 104729 + epoch * 31 + 17));
        var chunks = Enumerable.Range(0, (int)BatchesPerEpoch).Select(b => order.Skip(b * batchSize).Take(batchSize).ToArray()).ToList();
        var flips = chunks.Select(c => c.Select(_ => HorizontalFlip && flipRng.NextDouble() < 0.5).ToArray()).ToList();
        PeakQueued = 0;
        if (data is TensorImageDataset memory && Transform is null)
        {
            for (int b = 0; b < chunks.Count; b++)
            {
                using var raw = memory.Gather(chunks[b]);
                yield return Finish(raw, chunks[b], flips[b]);
            }
            yield break;
        }

        var queue = new BlockingCollection<(int Index, Tensor Raw)>(Math.Max(1, Prefetch));
        using var stop = new CancellationTokenSource();
        var producer = Task.Run(() => Produce(epoch, chunks, queue, stop.Token));
        try
        {
            foreach (var (b, raw) in queue.GetConsumingEnumerable())
            {
                using (raw) yield return Finish(raw, chunks[b], flips[b]);
            }
            producer.GetAwaiter().GetResult();            // surfaces a decode error (it names the file)
        }
        finally
        {
            stop.Cancel();
            while (queue.TryTake(out var left)) left.Raw.Dispose();
            try { producer.Wait(); } catch (AggregateException) when (stop.IsCancellationRequested) { }
            while (queue.TryTake(out var left)) left.Raw.Dispose();
            queue.Dispose();
        }
    }

    private void Produce(int epoch, List<int[]> chunks, BlockingCollection<(int, Tensor)> queue, CancellationToken token)
    {
        try
        {
            for (int b = 0; b < chunks.Count && !token.IsCancellationRequested; b++)
            {
                var ids = chunks[b];
                var items = new Tensor[ids.Length];
                try
                {
                    Parallel.For(0, ids.Length, new ParallelOptions { MaxDegreeOfParallelism = Workers, CancellationToken = token }, i =>
                    {
                        var rng = new Random(ItemSeeds.For(Seed, epoch, b * batchSize + i));
                        items[i] = LoadItem(ids[i], rng);
                    });
                    Tensor stacked;
                    using (var scope = NewDisposeScope())
                        stacked = (PinMemory ? stack(items).pin_memory() : stack(items)).DetachFromDisposeScope();
                    try { queue.Add((b, stacked), token); }
                    catch (OperationCanceledException) { stacked.Dispose(); throw; }
                    lock (queue) PeakQueued = Math.Max(PeakQueued, queue.Count);
                }
                finally { foreach (var t in items) t?.Dispose(); }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested) { }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Surface the first decode error itself (it names the file), not Parallel.For's wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
        finally { queue.CompleteAdding(); }
    }

    /// <summary>Decode + augment one item on a worker thread; the result belongs to no dispose scope. [C, Size, Size], C = 3.</summary>
    private Tensor LoadItem(int index, Random rng)
    {
        using var scope = NewDisposeScope();
        var x = data.Load(index);
        if (Transform is not null) x = Transform.Apply(x, rng);
        if (x.shape[1] != size || x.shape[2] != size) x = Transforms.Resize.To(x, size, size);
        if (x.shape[0] == 1) x = x.expand(3, -1, -1);
        return x.contiguous().DetachFromDisposeScope();
    }

    private ImageBatch Finish(Tensor raw, int[] ids, bool[] flip)
    {
        using var scope = NewDisposeScope();
        var x = ToDevice(raw);                                                           // [N, C, h, w]
        if (x.shape[2] != size || x.shape[3] != size)
            x = nn.functional.interpolate(x, [size, size], mode: InterpolationMode.Bilinear, align_corners: false).clamp_(0, 1);
        if (x.shape[1] == 1) x = x.expand(-1, 3, -1, -1);                               // grey → RGB
        if (flip.Any(f => f))
        {
            var mask = ToDevice(tensor(flip)).reshape(-1, 1, 1, 1);
            x = where(mask, x.flip(3), x);
        }
        var images = preprocessing.Apply(x.contiguous());
        var labels = ToDevice(tensor(ids.Select(i => (long)data.Label(i)).ToArray(), dtype: ScalarType.Int64));
        return new ImageBatch(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>A host tensor onto the device: with <see cref="PinMemory"/> asynchronously (<see cref="HostToDevice"/>),
    /// the small label and flip tensors too, so that no part of a batch makes the host wait for the GPU.</summary>
    private Tensor ToDevice(Tensor host) => PinMemory ? HostToDevice.Copy(host, device) : host.to(device);
}
