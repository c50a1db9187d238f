using System.Text.RegularExpressions;
using Delta.Service.Jobs;
using Delta.Service.Status;

namespace Delta.Service.Tests.Status;

/// <summary>Which curves a job's chart shows when it has more metrics than colours.</summary>
public sealed class SvgChartTests
{
    private static IReadOnlyList<string> Legend(string svg) =>
        Regex.Matches(svg, "<text [^>]*>([^:<]+):").Select(m => m.Groups[1].Value).ToList();

    /// <summary>A DeepLab job reports seg, aux, loss, lr per step and, at an epoch's end, epoch_seg, epoch_aux,
    /// epoch_loss and val_mIoU. In alphabetical order the three epoch means took half of the six curves and pushed out
    /// the validation mIoU and the step's seg loss; the chart now shows loss, validation, the step's losses, lr, then
    /// the epoch means.</summary>
    [Fact]
    public void The_step_loss_validation_and_step_losses_come_before_the_epoch_means()
    {
        var step = new Dictionary<string, double> { ["seg"] = 1.2, ["aux"] = 1.4, ["loss"] = 1.9, ["lr"] = 0.01 };
        var epochEnd = new Dictionary<string, double>(step) { ["epoch_seg"] = 1.3, ["epoch_aux"] = 1.5, ["epoch_loss"] = 2.0, ["val_mIoU"] = 0.4 };
        var svg = SvgChart.Render([new MetricPoint(1, step), new MetricPoint(2, epochEnd), new MetricPoint(3, step)]);
        Assert.Equal(["loss", "val_mIoU", "aux", "seg", "lr", "epoch_aux"], Legend(svg));
    }
}
