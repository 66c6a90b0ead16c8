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

    private readonly FileStream _stream;

    private HostLock(FileStream stream, string path)
    {
        _stream = stream;
        Path = path;
    }

    public string Path { get; }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    /// <summary>The lock file for the current network namespace.</summary>
    public static string DefaultPath()
    {
        var folder = Directory.Exists("/run/lock") ? "/run/lock" : System.IO.Path.GetTempPath();
        string netns;
        try
        {
            // "net:[4026531840]": the inode identifies the namespace, i.e. the host whose state we change.
            var link = new FileInfo("/proc/self/ns/net").LinkTarget ?? "net";
            netns = new string(link.Where(char.IsAsciiDigit).ToArray());
        }
        catch (IOException)
        {
            netns = "default";
        }

        return System.IO.Path.Combine(folder, $"lvsdirect-{(netns.Length > 0 ? netns : "default")}.lock");
    }

    public static HostLock Acquire(TimeSpan timeout, CancellationToken cancellationToken, string? path = null)
    {
        path ??= DefaultPath();
        FileStream stream;
        try
        {
            // FileShare.ReadWrite: .NET's own advisory lock must not interfere with the flock we take below.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot open the lock file '{path}': {ex.Message}", path, ex);
        }

        var fd = (int)stream.SafeFileHandle.DangerousGetHandle();
        var deadline = DateTime.UtcNow + timeout;
        var delay = 10;
        while (true)
        {
            if (Flock(fd, LOCK_EX | LOCK_NB) == 0)
            {
                return new HostLock(stream, path);
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != EWOULDBLOCK)
            {
                stream.Dispose();
                throw new LvsException(LvsErrorKind.FileError, $"flock on '{path}' failed (errno {errno}).", path);
            }

            if (DateTime.UtcNow >= deadline)
            {
                stream.Dispose();
                throw new LvsException(LvsErrorKind.LockTimeout,
                    $"Another LvsDirect run holds '{path}' and did not finish within {timeout.TotalSeconds:0} s.", path);
            }

            if (cancellationToken.WaitHandle.WaitOne(delay))
            {
                stream.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
            }

            delay = Math.Min(delay * 2, 200);
        }
    }

    public void Dispose() => _stream.Dispose();
}
