using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using Xunit;

namespace LvsDirect.Tests.Planning;

/// <summary>
/// Scope detection against this process's real namespace files (a folder of links stands in for /run/netns),
/// the root-only folders, the lock file and the stamp that makes a stale sysctl record harmless.
/// </summary>
public sealed class HostScopeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lvsdirect-scope-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ulong OurInode => HostScope.StatOf("/proc/self/ns/net", follow: true)!.Value.Inode;

    private string NetnsFolder(params (string Name, string Target)[] links)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "netns-" + Guid.NewGuid().ToString("N"))).FullName;
        foreach (var (name, target) in links)
        {
            File.CreateSymbolicLink(Path.Combine(folder, name), target);
        }

        return folder;
    }

    [Fact]
    public void Detect_TheNamedNamespaceWhoseFileIsOurs_IsNamed_WithItsOwnFolders()
    {
        // Another namespace type's file stands in for init's: readable, and not our network namespace.
        var folder = NetnsFolder(("blue", "/proc/self/ns/uts"), ("red", "/proc/self/ns/net"));

        var scope = HostScope.Detect("/proc/self/ns/net", "/proc/self/ns/uts", folder);

        Assert.Equal((HostScopeKind.Named, "red"), (scope.Kind, scope.Name));
        Assert.Equal("/run/lvsdirect/netns/red", scope.RuntimeDirectory);
        Assert.Equal("/var/lib/lvsdirect/netns/red", scope.DurableDirectory);
        Assert.Equal("/run/lvsdirect/netns/red/lock", scope.LockPath);
    }

    [Fact]
    public void Detect_NoNameAndNotInit_IsAnonymous_RuntimeOnly_KeyedByInode()
    {
        var folder = NetnsFolder(("blue", "/proc/self/ns/uts"));

        var scope = HostScope.Detect("/proc/self/ns/net", "/proc/self/ns/uts", folder);

        Assert.Equal(HostScopeKind.Anonymous, scope.Kind);
        Assert.Null(scope.DurableDirectory);
        Assert.Equal($"/run/lvsdirect/netns/ino-{OurInode}", scope.RuntimeDirectory);
        Assert.Equal(scope.RuntimeDirectory, scope.StateDirectory);
    }

    [Fact]
    public void Detect_InitsNamespace_IsTheHost_EvenWhenANameAlsoPointsAtIt()
    {
        var folder = NetnsFolder(("red", "/proc/self/ns/net"));

        var scope = HostScope.Detect("/proc/self/ns/net", "/proc/self/ns/net", folder);

        Assert.Equal(HostScopeKind.Host, scope.Kind);
        Assert.Equal(("/run/lvsdirect", "/var/lib/lvsdirect"), (scope.RuntimeDirectory, scope.DurableDirectory));
    }

    [Fact]
    public void Detect_InitUnreadable_FallsBackToInitNetsInode()
    {
        var scope = HostScope.Detect("/proc/self/ns/net", Path.Combine(_dir, "no-such-init"), NetnsFolder());

        Assert.Equal(OurInode == HostScope.InitialNetnsInode ? HostScopeKind.Host : HostScopeKind.Anonymous, scope.Kind);
    }

    [Fact]
    public void EnsurePrivateDirectory_CreatesEveryFolder0700()
    {
        var path = Path.Combine(_dir, "a", "b");

        HostScope.EnsurePrivateDirectory(path, _dir);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_dir, "a")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
    }

    [Fact]
    public void EnsurePrivateDirectory_RefusesASymlink_AFolderOthersCanWrite_AndOneNotOwnedByRoot()
    {
        var target = Directory.CreateDirectory(Path.Combine(_dir, "target")).FullName;
        File.SetUnixFileMode(target, (UnixFileMode)Convert.ToInt32("700", 8));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "link"), target);
        var open = Directory.CreateDirectory(Path.Combine(_dir, "open")).FullName;
        File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32("777", 8));
        var foreign = Directory.CreateDirectory(Path.Combine(_dir, "foreign")).FullName;
        File.SetUnixFileMode(foreign, (UnixFileMode)Convert.ToInt32("700", 8));
        using (var chown = System.Diagnostics.Process.Start("chown", ["65534", foreign])!)
        {
            chown.WaitForExit();
            Assert.Equal(0, chown.ExitCode);
        }

        foreach (var (path, why) in new[] { ("link/x", "symbolic link"), ("open/x", "writable by others"), ("foreign/x", "not root") })
        {
            var ex = Assert.Throws<LvsException>(() => HostScope.EnsurePrivateDirectory(Path.Combine(_dir, path), _dir));
            Assert.Equal(LvsErrorKind.FileError, ex.Kind);
            Assert.Contains(why, ex.Message);
        }

        Assert.False(Directory.Exists(Path.Combine(target, "x")));
        Assert.False(Directory.Exists(Path.Combine(open, "x")));
    }

    [Fact]
    public void Lock_IsCreated0600_AndASymlinkInItsPlaceIsRefused()
    {
        var path = Path.Combine(_dir, "lock");
        using (HostLock.Acquire(TimeSpan.FromSeconds(5), CancellationToken.None, path))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var target = Path.Combine(_dir, "elsewhere");
        var link = Path.Combine(_dir, "link.lock");
        File.CreateSymbolicLink(link, target);

        var ex = Assert.Throws<LvsException>(() => HostLock.Acquire(TimeSpan.FromSeconds(1), CancellationToken.None, link));

        Assert.Equal(LvsErrorKind.FileError, ex.Kind);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void PruneRuntime_RemovesFoldersOfNamedNamespacesThatAreGone_Only()
    {
        var root = HostScope.EnsurePrivateDirectory(Path.Combine(_dir, "run"), _dir);
        var named = NetnsFolder(("alive", "/proc/self/ns/net"));
        foreach (var n in new[] { "gone", "alive", "ino-42", "busy" })
        {
            HostScope.EnsurePrivateDirectory(Path.Combine(root, "netns", n), _dir);
            File.WriteAllText(Path.Combine(root, "netns", n, "lock"), string.Empty);
        }

        using (HostLock.Acquire(TimeSpan.FromSeconds(5), CancellationToken.None, Path.Combine(root, "netns", "busy", "lock")))
        {
            HostScope.PruneRuntime(root, named);
        }

        Assert.Equal(["alive", "busy", "ino-42"], Directory.GetDirectories(Path.Combine(root, "netns")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void SysctlRecord_FromAnotherNamespaceOrBoot_IsRemovedAndNeverApplied()
    {
        var path = Path.Combine(_dir, "arp-sysctl.json");
        var records = new[] { new SysctlRecord(new SysctlKey("eth0", "arp_announce"), 1, 2) };
        var here = new NamespaceStamp(7, "boot-a", 100);

        SysctlStateFile.Save(path, records, here);
        Assert.Equal(records, SysctlStateFile.Load(path, here));

        foreach (var other in new[] { here with { Cookie = 8 }, here with { BootId = "boot-b" }, here with { Cookie = null } })
        {
            SysctlStateFile.Save(path, records, here);
            Assert.Empty(SysctlStateFile.Load(path, other));
            Assert.False(File.Exists(path), $"a record stamped {here} was kept for {other}");
        }
    }

    [Fact]
    public void SysctlRecord_WithoutAStamp_IsStale()
    {
        var path = Path.Combine(_dir, "arp-sysctl.json");
        File.WriteAllText(path, "{\"sysctls\":[{\"name\":\"net.ipv4.conf.eth0.arp_announce\",\"previous\":0,\"set\":2}]}");

        Assert.Empty(SysctlStateFile.Load(path));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void SysctlRecord_OfThisNamespace_IsKept_And0600()
    {
        var path = Path.Combine(_dir, "arp-sysctl.json");
        var records = new[] { new SysctlRecord(new SysctlKey("all", "arp_ignore"), 0, 1) };

        SysctlStateFile.Save(path, records);

        Assert.Equal(records, SysctlStateFile.Load(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.NotNull(HostScope.Stamp().Cookie);
    }
}
