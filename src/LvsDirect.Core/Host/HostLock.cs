using System.Runtime.InteropServices;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Host;

/// <summary>
/// Serialises LvsDirect runs that change one host. arptables-restore replaces the whole rule set, so two
/// overlapping read-modify-write runs would lose each other's rules without it. The lock is per network
/// namespace (the kernel state it protects), taken with flock(2) so it is released even if the process dies.
/// </summary>
public sealed partial class HostLock : IDisposable
{
    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;
    private const int EWOULDBLOCK = 11;
    private const int EINTR = 4;
    private const int O_RDWR = 2;
    private const int O_CREAT = 0x40;
    private const int O_CLOEXEC = 0x80000;

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

    /// <summary>The inode of the host's own network namespace (init_net), the same on every boot since Linux 3.8.</summary>
    public const string InitialNetnsId = "4026531840";

    /// <summary>The lock file for the current network namespace.</summary>
    public static string DefaultPath()
    {
        var folder = Directory.Exists("/run/lock") ? "/run/lock" : System.IO.Path.GetTempPath();
        return System.IO.Path.Combine(folder, $"lvsdirect-{NetnsId()}.lock");
    }

    /// <summary>The current network namespace's inode ("default" if it cannot be read): the host whose state we change.</summary>
    public static string NetnsId()
    {
        string netns;
        try
        {
            // "net:[4026531840]": the inode identifies the namespace.
            var link = new FileInfo("/proc/self/ns/net").LinkTarget ?? "net";
            netns = new string(link.Where(char.IsAsciiDigit).ToArray());
        }
        catch (IOException)
        {
            netns = "default";
        }

        return netns.Length > 0 ? netns : "default";
    }

    public static HostLock Acquire(TimeSpan timeout, CancellationToken cancellationToken, string? path = null)
    {
        path ??= DefaultPath();
        var fd = Open(path, O_RDWR | O_CREAT | O_CLOEXEC, Convert.ToInt32("644", 8));
        if (fd < 0)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot open the lock file '{path}' (errno {Marshal.GetLastPInvokeError()}).", path);
        }

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
