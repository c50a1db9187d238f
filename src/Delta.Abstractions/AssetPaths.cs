namespace Delta.Abstractions;

/// <summary>
/// Where the real assets fetched by <c>./delta setup</c> live: $DELTA_ASSETS, else &lt;repo&gt;/.cache/assets.
/// Programs never download anything; a missing file is an error that says how to get it.
/// </summary>
public static class AssetPaths
{
    /// <summary>The repository root: $DELTA_ROOT, else the nearest folder above the running assembly
    /// (or the current directory) that holds Delta.sln; null when neither exists.</summary>
    public static string? RepoRoot
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("DELTA_ROOT");
            if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "Delta.sln"))) return Path.GetFullPath(env);
            foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                    if (File.Exists(Path.Combine(dir.FullName, "Delta.sln"))) return dir.FullName;
            }
            return null;
        }
    }

    public static string Root
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("DELTA_ASSETS");
            if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
            var repo = RepoRoot ?? Directory.GetCurrentDirectory();
            return Path.Combine(repo, ".cache", "assets");
        }
    }

    /// <summary>Absolute path of an asset (e.g. "resnet18/ResNet18.onnx"); throws a
    /// <see cref="FileNotFoundException"/> naming the fix when it is missing.</summary>
    public static string Require(string relative)
    {
        var path = Path.Combine(Root, relative);
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new FileNotFoundException($"Asset '{relative}' not found at {path}. Run './delta setup' to fetch the assets (or set DELTA_ASSETS).", path);
        return path;
    }

    public static bool Exists(string relative) => File.Exists(Path.Combine(Root, relative)) || Directory.Exists(Path.Combine(Root, relative));

    public const string ResNet18Onnx = "resnet18/ResNet18.onnx";
    public const string FashionMnist = "fashion-mnist";
    public const string MnistJson = "mnist";
    public const string OptDigitsCsv = "optdigits/digits.csv.gz";
    public const string Photos = "photos";
}
