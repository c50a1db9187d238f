using System.Globalization;
using Delta.Data.Voc;

namespace Delta.Plugins.FasterRcnn.Metrics;

/// <summary>Writes detections in the VOC devkit's results format: one file per class, comp4_det_&lt;set&gt;_&lt;class&gt;.txt,
/// lines "image_id score xmin ymin xmax ymax" in 1-based pixel coordinates.</summary>
public static class VocResultsWriter
{
    public static IReadOnlyList<string> Write(string folder, IReadOnlyList<VocDetection> detections, string imageSet = "test")
    {
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        for (int c = 1; c <= VocClasses.Names.Count; c++)
        {
            var path = Path.Combine(folder, $"comp4_det_{imageSet}_{VocClasses.Names[c - 1]}.txt");
            File.WriteAllLines(path, detections.Where(d => d.Label == c).Select(d => string.Create(CultureInfo.InvariantCulture,
                $"{d.ImageId} {d.Score:F6} {d.XMin:F1} {d.YMin:F1} {d.XMax:F1} {d.YMax:F1}")));
            files.Add(path);
        }
        return files;
    }
}
