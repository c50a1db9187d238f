namespace Delta.Host.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Something failed while doing valid work (training diverged, an I/O error, a bug).</summary>
    public const int Failure = 1;
    /// <summary>The input was wrong: job file, options, paths, names, a patch for another base.</summary>
    public const int BadInput = 2;
}
