using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Host;

/// <summary>Which network namespace a run changes: the host's own, one named by ip netns, or an anonymous one.</summary>
public enum HostScopeKind
{
    Host,
    Named,
    Anonymous,
}

/// <summary>
/// The network namespace LvsDirect changes, and where its per-host files live. Everything LvsDirect keeps
/// (the lock, the ownership record, the sysctl method's record) is per network namespace, because that is the
/// kernel state it describes. The folders are root-only (0700, owned by root, no symlink anywhere on the way),
/// so no other user can hold the lock or plant a record.
/// </summary>
/// <remarks>
/// The host's own namespace and named ones keep durable files under /var/lib/lvsdirect (a named namespace is
/// recreated under its name at boot, so its name is what lasts); an anonymous one (a container's) has no name
/// that outlives it and keeps its files in /run only, keyed by its inode, which the kernel reuses: records
/// there carry a <see cref="NamespaceStamp"/>.
/// </remarks>
public sealed partial record HostScope(HostScopeKind Kind, string? Name, ulong Device, ulong Inode)
{
    public const string RuntimeRoot = "/run/lvsdirect";
    public const string DurableRoot = "/var/lib/lvsdirect";
    public const string NetnsFolder = "netns";
    public const string NamedNetnsFolder = "/run/netns";
    public const string LockFileName = "lock";

    /// <summary>init_net's inode, the same on every boot since Linux 3.8: the host's namespace where /proc/1 cannot be read.</summary>
    public const ulong InitialNetnsInode = 4026531840;

    private const int AT_FDCWD = -100;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const uint STATX_BASIC_STATS = 0x7ff;
    private const int ENOENT = 2;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mkdir(string path, uint mode);

    /// <summary>The folder for this namespace's files that only matter until it (or the boot) ends: the lock.</summary>
    public string RuntimeDirectory => RuntimeDirectoryUnder(RuntimeRoot);

    /// <summary>Where records that must survive a reboot live; null for an anonymous namespace (none can).</summary>
    public string? DurableDirectory => Kind switch
    {
        HostScopeKind.Host => DurableRoot,
        HostScopeKind.Named => $"{DurableRoot}/{NetnsFolder}/{Name}",
        _ => null,
    };

    /// <summary>The folder of this namespace's records: the durable one, or for an anonymous namespace the runtime one.</summary>
    public string StateDirectory => DurableDirectory ?? RuntimeDirectory;

    public string LockPath => $"{RuntimeDirectory}/{LockFileName}";

    /// <summary>The runtime folder below another root (tests; the agentless script's LOCKDIR does the same).</summary>
    public string RuntimeDirectoryUnder(string root) => Kind switch
    {
        HostScopeKind.Host => root,
        HostScopeKind.Named => $"{root}/{NetnsFolder}/{Name}",
        _ => $"{root}/{NetnsFolder}/ino-{Inode.ToString(CultureInfo.InvariantCulture)}",
    };

    public override string ToString() => Kind switch
    {
        HostScopeKind.Host => "the host's network namespace",
        HostScopeKind.Named => $"network namespace {Name}",
        _ => $"anonymous network namespace (inode {Inode})",
    };

    /// <summary>The namespace this process runs in.</summary>
    public static HostScope Current() => Detect("/proc/self/ns/net", "/proc/1/ns/net", NamedNetnsFolder);

    /// <summary>
    /// Host when our namespace file is init's (or, where init's cannot be read, has init_net's inode); named
    /// when a file in <paramref name="namedFolder"/> is the same namespace (same device and inode); else anonymous.
    /// </summary>
    public static HostScope Detect(string self, string init, string namedFolder)
    {
        var ours = StatOf(self, follow: true) ?? throw new LvsException(LvsErrorKind.FileError, $"Cannot identify the network namespace: '{self}' cannot be read.", self);
        var initial = StatOf(init, follow: true);
        if (initial is { } i ? i.Device == ours.Device && i.Inode == ours.Inode : ours.Inode == InitialNetnsInode)
        {
            return new HostScope(HostScopeKind.Host, null, ours.Device, ours.Inode);
        }

        string[] names;
        try
        {
            names = Directory.Exists(namedFolder) ? Directory.GetFiles(namedFolder) : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            names = [];
        }

        foreach (var path in names.Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (IsSafeName(name) && StatOf(path, follow: true) is { } s && s.Device == ours.Device && s.Inode == ours.Inode)
            {
                return new HostScope(HostScopeKind.Named, name, ours.Device, ours.Inode);
            }
        }

        return new HostScope(HostScopeKind.Anonymous, null, ours.Device, ours.Inode);
    }

    /// <summary>A namespace name that is one path component (ip netns allows more than we want in a folder name).</summary>
    public static bool IsSafeName(string name) =>
        name.Length is > 0 and <= 255 && name != "." && name != ".." && !name.StartsWith("ino-", StringComparison.Ordinal)
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@' or '+');

    /// <summary>
    /// Creates <paramref name="path"/> (and the folders up to it) 0700 root, and checks every component from
    /// <paramref name="trustedBase"/> down: a real folder (no symlink), owned by root, writable by no one else.
    /// Components above the base (/run, /var/lib) are the system's. Returns the path.
    /// </summary>
    public static string EnsurePrivateDirectory(string path, string trustedBase = "/")
    {
        if (!path.StartsWith('/') || !(path == trustedBase || path.StartsWith(trustedBase.TrimEnd('/') + "/", StringComparison.Ordinal)))
        {
            throw new ArgumentException($"'{path}' is not below '{trustedBase}'.", nameof(path));
        }

        var current = trustedBase.TrimEnd('/');
        CheckPrivate(current.Length == 0 ? "/" : current, create: false);
        foreach (var part in path[current.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current += "/" + part;
            CheckPrivate(current, create: true);
        }

        return path;
    }

    /// <summary>The runtime and durable folders of this scope, created and checked; returns the state folder.</summary>
    public string EnsureStateDirectory()
    {
        EnsurePrivateDirectory(RuntimeDirectory, "/run");
        return DurableDirectory is { } d ? EnsurePrivateDirectory(d, "/var/lib") : RuntimeDirectory;
    }

    /// <summary>
    /// Removes the runtime folders of named namespaces that no longer exist, so lock files do not pile up. A
    /// folder whose lock someone holds is left alone (a namespace of that name is being set up right now).
    /// </summary>
    public static void PruneRuntime(string root = RuntimeRoot, string namedFolder = NamedNetnsFolder)
    {
        var folder = $"{root}/{NetnsFolder}";
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var dir in Directory.GetDirectories(folder))
        {
            var name = Path.GetFileName(dir);
            if (!IsSafeName(name) || File.Exists($"{namedFolder}/{name}") || new DirectoryInfo(dir).LinkTarget is not null)
            {
                continue;
            }

            try
            {
                using var held = HostLock.TryAcquire($"{dir}/{LockFileName}");
                if (held is null || File.Exists($"{namedFolder}/{name}"))
                {
                    continue;
                }

                Directory.Delete(dir, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or LvsException)
            {
                // Pruning is housekeeping: a folder that cannot go now goes on a later run.
            }
        }
    }

    /// <summary>
    /// A record file's text, opened without following a symlink (O_NOFOLLOW); null when it does not exist.
    /// </summary>
    public static string? ReadPrivateFile(string path)
    {
        var fd = Open(path, HostLock.O_RDONLY | HostLock.O_CLOEXEC | HostLock.O_NOFOLLOW, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT)
            {
                return null;
            }

            throw new LvsException(LvsErrorKind.FileError,
                errno == HostLock.ELOOP ? $"'{path}' is a symbolic link; LvsDirect does not follow links to its records. Remove it and run again." : $"Cannot read '{path}' (errno {errno}).",
                path);
        }

        using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read);
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        return reader.ReadToEnd();
    }

    /// <summary>Removes a record file (a symlink in its place, not its target); false when there was none.</summary>
    public static bool RemovePrivateFile(string path)
    {
        if (StatOf(path, follow: false) is null)
        {
            return false;
        }

        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot remove '{path}': {ex.Message}", path, ex);
        }
    }

    /// <summary>Replaces a record file atomically, 0600; a symlink in its place is refused, not followed.</summary>
    public static bool WritePrivateFile(string path, string content)
    {
        if (StatOf(path, follow: false) is { } s && (s.Mode & 0xF000) == 0xA000)
        {
            throw new LvsException(LvsErrorKind.FileError, $"'{path}' is a symbolic link; LvsDirect does not follow links to its records. Remove it and run again.", path);
        }

        return Persistence.AtomicFile.WriteAllText(path, content, (UnixFileMode)Convert.ToInt32("600", 8));
    }

    private static void CheckPrivate(string path, bool create)
    {
        var s = StatOf(path, follow: false);
        if (s is null && create)
        {
            if (Mkdir(path, Convert.ToUInt32("700", 8)) != 0 && Marshal.GetLastPInvokeError() != 17)
            {
                throw new LvsException(LvsErrorKind.FileError, $"Cannot create '{path}' (errno {Marshal.GetLastPInvokeError()}).", path);
            }

            s = StatOf(path, follow: false);
        }

        if (s is not { } st)
        {
            throw new LvsException(LvsErrorKind.FileError, $"'{path}' does not exist.", path);
        }

        var why = (st.Mode & 0xF000) == 0xA000 ? "is a symbolic link"
            : (st.Mode & 0xF000) != 0x4000 ? "is not a folder"
            : st.Uid != 0 ? $"is owned by uid {st.Uid}, not root"
            : (st.Mode & Convert.ToInt32("022", 8)) != 0 ? $"is writable by others (mode {Convert.ToString(st.Mode & Convert.ToInt32("7777", 8), 8)})"
            : null;
        if (why is not null)
        {
            throw new LvsException(LvsErrorKind.FileError,
                $"'{path}' {why}: LvsDirect keeps its lock and records only in folders no one but root can change. Remove or fix it (root-owned, mode 0700), then run again.",
                path);
        }
    }

    internal readonly record struct FileStat(ulong Device, ulong Inode, uint Uid, int Mode);

    /// <summary>statx, whose layout is the same on every architecture: uid at 20, mode at 28, inode at 32, dev major/minor at 136/140.</summary>
    internal static unsafe FileStat? StatOf(string path, bool follow)
    {
        var buffer = stackalloc byte[256];
        if (Statx(AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buffer) != 0)
        {
            return null;
        }

        // st_dev as stat(1) prints %d: glibc's makedev of major and minor.
        ulong major = *(uint*)(buffer + 136);
        ulong minor = *(uint*)(buffer + 140);
        var dev = ((major & 0xfffff000UL) << 32) | ((major & 0xfffUL) << 8) | ((minor & 0xffffff00UL) << 12) | (minor & 0xffUL);
        return new FileStat(dev, *(ulong*)(buffer + 32), *(uint*)(buffer + 20), *(ushort*)(buffer + 28));
    }

    /// <summary>The proof that a record belongs to this very namespace in this boot.</summary>
    public static NamespaceStamp Stamp() =>
        new(NamespaceStamp.CurrentCookie(), NamespaceStamp.CurrentBootId(), StatOf("/proc/self/ns/net", follow: true)?.Inode ?? 0);
}

/// <summary>
/// What the kernel never hands out twice: the network namespace cookie (SO_NETNS_COOKIE, Linux 5.14+, unique
/// within a boot) and the boot id. A record stamped otherwise was written in another namespace or boot.
/// </summary>
/// <remarks>
/// Before Linux 5.14 there is no cookie: then the namespace inode stands in, which is only unique among the
/// namespaces alive at one time; that is the best such a kernel offers.
/// </remarks>
public sealed record NamespaceStamp(ulong? Cookie, string? BootId, ulong Inode)
{
    private const int SOL_SOCKET = 1;
    private const int SO_NETNS_COOKIE = 71;

    /// <summary>True when the boot is known and the same, and so are the cookie (or, without one, the inode).</summary>
    public bool Matches(NamespaceStamp? other) =>
        other is not null && BootId is not null && BootId == other.BootId && Cookie == other.Cookie && Inode == other.Inode;

    public static ulong? CurrentCookie()
    {
        try
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
            Span<byte> value = stackalloc byte[8];
            return socket.GetRawSocketOption(SOL_SOCKET, SO_NETNS_COOKIE, value) == 8 ? BitConverter.ToUInt64(value) : null;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    public static string? CurrentBootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id", Encoding.ASCII).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
