namespace Delta.Data.IO;

/// <summary>
/// Replaces a file only with a complete one: the content goes to a temporary file beside the target (the same file
/// system, so the rename is atomic), is flushed to disk, and is renamed over the target. The temporary name carries a
/// GUID and is created with <see cref="FileMode.CreateNew"/>, so two writers of one target (two jobs of one process, or
/// two containers that share the folder and happen to have the same PID) never open, truncate, rename or delete each
/// other's file; a writer that fails deletes its own and nothing else.
/// </summary>
public static class AtomicFile
{
    /// <param name="write">Writes the content; the stream is flushed to disk and closed afterwards.</param>
    /// <param name="preallocationSize">Bytes to reserve up front when the final size is known (0: none).</param>
    public static void Write(string target, Action<FileStream> write, long preallocationSize = 0)
    {
        var full = Path.GetFullPath(target);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
                   { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, PreallocationSize = preallocationSize }))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }   // best effort; the original error is what matters
            throw;
        }
    }
}
