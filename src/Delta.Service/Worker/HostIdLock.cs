namespace Delta.Service.Worker;

/// <summary>
/// Service:HostId held by one live process. Jobs are leased to a host id: a starting host requeues the running jobs of
/// its id at once (an earlier run of it was killed), and heartbeats and outcomes match on the id alone. A second live
/// process with the same id (two `delta serve` on one machine, where the id defaults to the machine name) therefore
/// took the first one's running job at its start and trained it too, into the same checkpoint folder, each process's
/// heartbeats extending the lease for both. The lock is an exclusive lock on a file in the state folder, which the
/// operating system drops when the process dies, kill -9 included, so a restart is never refused by a dead holder.
/// Hosts with one id and different state folders on a shared PostgreSQL queue are not detected.
/// </summary>
public sealed class HostIdLock : IDisposable
{
    private readonly FileStream file;

    private HostIdLock(FileStream file) => this.file = file;

    public static HostIdLock Acquire(string stateDir, string hostId)
    {
        var path = Path.Combine(stateDir, $"host-{Uri.EscapeDataString(hostId)}.lock");
        // FileShare.None is an exclusive flock on Unix and a share-mode lock on Windows: a second holder gets an IOException.
        try { return new HostIdLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)); }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            throw new InvalidOperationException(
                $"Service:HostId '{hostId}' is in use by another running host on the state folder {stateDir} ({path} is locked: {e.Message}) " +
                "Two live hosts with one id take each other's running jobs. Stop the other host, or give each host its own Service:HostId " +
                "(a SQLite queue is for one host process; use Service:Store=postgres for several).", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not a holder: a read-only or full disk, a name too long, no permission. Said as what it is, so that nobody
            // goes looking for another host.
            throw new InvalidOperationException($"Service:HostId '{hostId}': its lock file {path} cannot be created or opened: {e.Message}", e);
        }
    }

    /// <summary>The lock is held by another process: EWOULDBLOCK from flock on Linux (the errno is the HResult .NET
    /// gives), ERROR_SHARING_VIOLATION on Windows.</summary>
    private static bool IsHeldElsewhere(IOException e) =>
        OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) == 32 : e.HResult == 11;

    public void Dispose() => file.Dispose();
}
