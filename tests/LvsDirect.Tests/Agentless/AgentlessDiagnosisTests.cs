using LvsDirect.Core.Agentless;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Persistence;
using Xunit;

namespace LvsDirect.Tests.Agentless;

public class AgentlessDiagnosisTests
{
    private const string Ip = """
        [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"operstate":"UNKNOWN","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},{"ifindex":2,"ifname":"eth0","flags":["UP"],"operstate":"UP","addr_info":[{"family":"inet","local":"192.0.2.11","prefixlen":24,"scope":"global","label":"eth0"}]}]
        [{"dst":"default","gateway":"192.0.2.254","dev":"eth0"}]
        """;

    private static RemoteSnapshot Remote(Dictionary<string, string?> files, Dictionary<string, string> modes, HashSet<string> folders, string sysctl) => new()
    {
        Uid = 0,
        Programs = new HashSet<string> { "ip" },
        Reads = new Dictionary<string, RemoteOutput>
        {
            ["ip"] = new(0, Ip, string.Empty),
            ["sysctl"] = new(0, sysctl, string.Empty),
        },
        Files = files,
        FileModes = modes,
        UnreadableFiles = folders,
    };

    [Fact]
    public void TheRemoteFilesBecomeTheSameSnapshotALocalProbeReads()
    {
        var block = string.Join('\n', RcLocal.Merge(null, [RcLocal.BeginMarker, "ip addr add 203.0.113.10/32 dev eth0", RcLocal.EndMarker]));
        var remote = Remote(
            new() { ["/etc/rc.local"] = block, ["/etc/rc.d/rc.local"] = null, ["/etc/sysctl.d/90-lvs.conf"] = "net.ipv4.conf.all.arp_ignore = 1\n", ["/usr/lib/sysctl.d/90-lvs.conf"] = "net.ipv4.conf.all.arp_ignore = 8\n" },
            new() { ["/etc/rc.local"] = "755" },
            [],
            "all arp_ignore 1\nall arp_announce 2\neth0 rp_filter 1\nbad line\n");

        var snap = AgentlessDiagnosis.ToSnapshot(remote, "rs1", null, null, withListeners: false);

        Assert.Equal("rs1", snap.ComputerName);
        Assert.Equal("/etc/rc.local", snap.Persisted.RcLocalPath);
        Assert.True(snap.Persisted.RcLocalExecutable);
        Assert.Equal("203.0.113.10", Assert.Single(snap.Persisted.RcAddresses).Address.ToString());
        Assert.Equal(1, snap.Persisted.BootSysctl("all", "arp_ignore"));
        Assert.Equal(2, snap.Sysctls.Effective("eth0", InterfaceSysctls.ArpAnnounce));
        Assert.Equal(1, snap.Sysctls.Get("eth0", InterfaceSysctls.RpFilter));
        Assert.False(snap.ArptablesInstalled);
        Assert.Null(snap.Listeners);
        Assert.Contains(snap.State.Interfaces, i => i.Name == "eth0");
    }

    [Fact]
    public void RcDFolder_MakesRcDRcLocalTheFile_AndModeDecidesExecutable()
    {
        var remote = Remote(new() { ["/etc/rc.d/rc.local"] = "#!/bin/sh\n" }, new() { ["/etc/rc.d/rc.local"] = "644" }, ["/etc/rc.d"], string.Empty);

        var snap = AgentlessDiagnosis.ToSnapshot(remote, "rs1", null, null, withListeners: false);

        Assert.Equal("/etc/rc.d/rc.local", snap.Persisted.RcLocalPath);
        Assert.True(snap.Persisted.RcLocalExists);
        Assert.False(snap.Persisted.RcLocalExecutable);
    }

    [Fact]
    public void SysctlFiles_AreOrderedLikeSystemdSysctl()
    {
        var ordered = PersistedConfig.OrderSysctlFiles(["/usr/lib/sysctl.d/50-a.conf", "/etc/sysctl.d/50-a.conf", "/usr/lib/sysctl.d/10-b.conf", "/etc/rc.local"]);

        Assert.Equal(["/usr/lib/sysctl.d/10-b.conf", "/etc/sysctl.d/50-a.conf", "/etc/sysctl.conf"], ordered);
    }
}
