using System.Runtime.InteropServices;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Host;

/// <summary>
/// Serialises LvsDirect runs that change one host. arptables-restore replaces the whole rule set, so two
/// overlapping read-modify-write runs would lose each other's rules without it. The lock is per network
/// namespace (the kernel state it protects), in that namespace's root-only runtime folder
/// (<see cref="HostScope"/>) so no other user can hold it, and taken with flock(2) so it is released even if
/// the process dies.
/// </summary>
public sealed partial class HostLock : IDisposable
{
    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;
    private const int EWOULDBLOCK = 11;
    private const int EINTR = 4;
    internal const int O_RDONLY = 0;
    private const int O_RDWR = 2;
    private const int O_CREAT = 0x40;
    internal const int O_CLOEXEC = 0x80000;

    // The one open flag here whose value differs between architectures.
    internal static readonly int O_NOFOLLOW = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
    internal const int ELOOP = 40;

    private int _fd;

    private HostLock(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    public string Path { get; }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    // Not FileStream: .NET takes its own flock(LOCK_SH) when it opens a file, which fails (or deadlocks an
    // upgrade) while another run holds our LOCK_EX.
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>
    /// The lock file of <paramref name="scope"/>'s network namespace, in its root-only runtime folder (created on the way);
    /// runtime folders of named namespaces that are gone are pruned first.
    /// </summary>
    public static string DefaultPath(HostScope scope)
    {
        HostScope.EnsurePrivateDirectory(scope.RuntimeDirectory, "/run");
        HostScope.PruneRuntime();
        return scope.LockPath;
    }

    /// <summary>The lock at <paramref name="path"/> if no one holds it, else null (never waits).</summary>
    internal static HostLock? TryAcquire(string path)
    {
        var fd = OpenLockFile(path);
        if (Flock(fd, LOCK_EX | LOCK_NB) == 0)
        {
            return new HostLock(fd, path);
        }

        Close(fd);
        return null;
    }

    /// <summary>
    /// Never through a symlink (O_NOFOLLOW) and 0600: the folder is root's, and the file must be the one in it.
    /// </summary>
    private static int OpenLockFile(string path)
    {
        var fd = Open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, Convert.ToInt32("600", 8));
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new LvsException(LvsErrorKind.FileError,
                errno == ELOOP ? $"The lock file '{path}' is a symbolic link; LvsDirect does not follow it. Remove it and run again." : $"Cannot open the lock file '{path}' (errno {errno}).",
                path);
        }

        return fd;
    }

    public static HostLock Acquire(TimeSpan timeout, CancellationToken cancellationToken, string path)
    {
        var fd = OpenLockFile(path);

        var deadline = DateTime.UtcNow + timeout;
        var delay = 10;
        while (true)
        {
            if (Flock(fd, LOCK_EX | LOCK_NB) == 0)
            {
                return new HostLock(fd, path);
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != EWOULDBLOCK && errno != EINTR)
            {
                Close(fd);
                throw new LvsException(LvsErrorKind.FileError, $"flock on '{path}' failed (errno {errno}).", path);
            }

            if (DateTime.UtcNow >= deadline)
            {
                Close(fd);
                throw new LvsException(LvsErrorKind.LockTimeout,
                    $"Another LvsDirect run holds '{path}' and did not finish within {timeout.TotalSeconds:0} s.", path);
            }

            if (cancellationToken.WaitHandle.WaitOne(delay))
            {
                Close(fd);
                cancellationToken.ThrowIfCancellationRequested();
            }

            delay = Math.Min(delay * 2, 200);
        }
    }

    /// <summary>Closing the descriptor releases the flock.</summary>
    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Close(fd);
        }
    }
}
