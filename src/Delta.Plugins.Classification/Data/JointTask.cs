using Delta.Data.Datasets;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Data;

/// <summary>
/// Joint patching's data (paper §3): several tasks concatenated into one, labels offset so that one head covers
/// all classes ("mnist/3", "optdigits/3", …). Items are resized to a common size when materialized.
/// </summary>
public static class JointTask
{
    public static TaskData Concatenate(IReadOnlyList<TaskData> tasks, int size)
    {
        if (tasks.Count < 2) throw new ArgumentException("Joint patching needs at least two tasks.");
        var classes = tasks.SelectMany(t => t.ClassNames.Select(c => $"{t.Name}/{c}")).ToList();
        var train = new List<Tensor>(); var test = new List<Tensor>();
        var trainLabels = new List<int>(); var testLabels = new List<int>();
        var (fit, val, held) = (new List<int>(), new List<int>(), new List<int>());
        int offset = 0;
        try
        {
            foreach (var t in tasks)
            {
                void Add(IImageDataset d, IReadOnlyList<int> ids, List<Tensor> images, List<int> labels, List<int> indexOut)
                {
                    using var m = TensorImageDataset.Materialize(d, ids);
                    using var rgb = m.Images.shape[1] == 1 ? m.Images.expand(-1, 3, -1, -1) : m.Images.alias();
                    images.Add(nn.functional.interpolate(rgb, [size, size], mode: InterpolationMode.Bilinear, align_corners: false).clamp_(0, 1));
                    foreach (var l in m.Labels) { indexOut.Add(labels.Count); labels.Add(l + offset); }
                }
                Add(t.Train, t.TrainIndices, train, trainLabels, fit);
                Add(t.Train, t.ValIndices, train, trainLabels, val);
                Add(t.Test, t.TestIndices, test, testLabels, held);
                offset += t.ClassNames.Count;
            }
            var name = string.Join("+", tasks.Select(t => t.Name));
            var trainSet = new TensorImageDataset(name, cat(train.ToArray()), trainLabels.ToArray(), classes);
            var testSet = new TensorImageDataset(name, cat(test.ToArray()), testLabels.ToArray(), classes);
            return new TaskData(name, trainSet, testSet, fit, val, held);
        }
        finally { foreach (var x in train.Concat(test)) x.Dispose(); }
    }
}
