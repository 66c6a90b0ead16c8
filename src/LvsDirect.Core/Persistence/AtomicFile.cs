using System.Runtime.InteropServices;
using System.Text;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Persistence;

/// <summary>
/// Writes files the way configuration must be written: to a temporary file in the same folder, flushed to
/// disk, with the original's mode and owner, then renamed over it. A reader (or a boot) never sees half a file.
/// </summary>
public static partial class AtomicFile
{
    private const int AT_FDCWD = -100;
    private const uint STATX_UID_GID = 0x0008 | 0x0010;

    private const UnixFileMode ExecuteBits = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);

    public static string? ReadAllTextOrNull(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot read '{path}': {ex.Message}", path, ex);
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/>. A symlink is kept and its target
    /// written (RHEL's /etc/rc.local points into rc.d). Returns false, writing nothing, when the file already
    /// holds that content (and is executable where <paramref name="ensureExecutable"/> asks).
    /// </summary>
    public static bool WriteAllText(string path, string content, UnixFileMode newFileMode, bool ensureExecutable = false)
    {
        var target = ResolveTarget(path);
        var exists = File.Exists(target);
        try
        {
            if (exists && File.ReadAllText(target) == content && (!ensureExecutable || (File.GetUnixFileMode(target) & ExecuteBits) == ExecuteBits))
            {
                return false;
            }

            var mode = exists ? File.GetUnixFileMode(target) : newFileMode;
            if (ensureExecutable)
            {
                mode |= ExecuteBits;
            }

            var owner = exists ? OwnerOf(target) : null;
            var folder = Path.GetDirectoryName(target)!;
            var temp = Path.Combine(folder, $".{Path.GetFileName(target)}.lvsdirect-{Guid.NewGuid():N}.tmp");
            try
            {
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(content);
                    stream.Write(bytes);
                    stream.Flush(flushToDisk: true);
                }

                File.SetUnixFileMode(temp, mode);
                if (owner is { } o && Chown(temp, o.Uid, o.Gid) != 0)
                {
                    throw new IOException($"chown to {o.Uid}:{o.Gid} failed (errno {Marshal.GetLastPInvokeError()})");
                }

                File.Move(temp, target, overwrite: true);
            }
            finally
            {
                if (File.Exists(temp))
                {
                    File.Delete(temp);
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot write '{path}': {ex.Message}", path, ex);
        }
    }

    private static string ResolveTarget(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is null ? info.FullName : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
    }

    /// <summary>statx's layout is the same on every architecture, unlike struct stat: uid at byte 20, gid at 24.</summary>
    private static unsafe (uint Uid, uint Gid)? OwnerOf(string path)
    {
        var buffer = stackalloc byte[256];
        if (Statx(AT_FDCWD, path, 0, STATX_UID_GID, buffer) != 0)
        {
            return null;
        }

        return (*(uint*)(buffer + 20), *(uint*)(buffer + 24));
    }
}
