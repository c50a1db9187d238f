using System.Runtime.InteropServices;

namespace Delta.Backbones.Patches;

/// <summary>
/// fsync of a folder. A rename is durable only once the folder's own entries reach the disk (POSIX); flushing the
/// file alone can leave, after a power cut, the old name or no name at all. .NET has no API for this, so libc's
/// open/fsync/close are called directly on Linux; elsewhere the call does nothing (Windows commits renames with
/// the file system's journal).
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;              // O_RDONLY
    private const int Directory = 0x10000;       // O_DIRECTORY on Linux x86-64 and arm64

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>Flushes the folder's entries; throws IOException naming the folder when the system refuses.</summary>
    public static void Flush(string folder)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = Open(folder, ReadOnly | Directory);
        if (fd < 0) throw new IOException($"{folder}: cannot open the folder to flush it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"{folder}: fsync of the folder failed (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally { Close(fd); }
    }
}
