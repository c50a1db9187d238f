using Delta.Abstractions.Backbones;
using Delta.Data.Voc;
using Delta.Plugins.DeepLabV3.Data;
using Delta.Plugins.DeepLabV3.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Metrics;

/// <summary>
/// Full-resolution evaluation, one image at a time (batch 1, no resizing or cropping, so scores are on the
/// original pixels). Optionally writes each prediction as a VOC palette PNG named &lt;id&gt;.png (any VOC tool can
/// score the folder) and colour overlays of ground truth and prediction for the first images.
/// </summary>
public static class SegmentationEvaluator
{
    public static SegmentationScores Evaluate(DeepLabV3Model model, VocSegmentationDataset dataset, IInputPreprocessing preprocessing,
        int maxImages = 0, string? predictionsDir = null, string? overlaysDir = null, int overlays = 0, CancellationToken cancellationToken = default)
    {
        var matrix = new ConfusionMatrix(model.NumClasses);
        model.Train(false);
        using var noGrad = no_grad();
        int count = maxImages > 0 ? Math.Min(maxImages, dataset.Count) : dataset.Count;
        for (int i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var sample = dataset.Get(i);
            var prediction = Predict(model, preprocessing, sample.Image);       // [H, W] int64 on the device
            matrix.Update(sample.Label.to(prediction.device), prediction);
            if (predictionsDir is not null) WriteLabelPng(Path.Combine(predictionsDir, sample.Id + ".png"), prediction);
            if (overlaysDir is not null && i < overlays)
                SegmentationRendering.WriteOverlay(Path.Combine(overlaysDir, sample.Id + ".png"), sample.Image, prediction, sample.Label);
        }
        return matrix.Scores();
    }

    /// <summary>image float RGB [3, H, W] in [0, 1] → class map int64 [H, W].</summary>
    public static Tensor Predict(DeepLabV3Model model, IInputPreprocessing preprocessing, Tensor image)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = preprocessing.Apply(image.to(model.Backbone.Device)).unsqueeze(0);   // [1, 3, H, W]
        return model.Forward(input).Logits.argmax(1).squeeze(0).MoveToOuterDisposeScope();
    }

    public static void WriteLabelPng(string path, Tensor label)
    {
        using var scope = NewDisposeScope();
        var bytes = label.to_type(ScalarType.Byte).cpu().contiguous();
        PalettePng.Write(path, bytes.bytes, (int)label.shape[1], (int)label.shape[0], VocClasses.ColorMap);   // [H, W] row-major
    }
}
