using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using Xunit;

namespace LvsDirect.Tests.Persistence;

/// <summary>One list of boot commands: both renderings read back into it, and earlier versions' files are read too.</summary>
public class BootCommandsTests
{
    private static readonly IPAddress Vip = IPAddress.Parse("203.0.113.100");
    private static readonly IPAddress Rip = IPAddress.Parse("192.0.2.11");

    private static BootCommands Sample(ArptablesFlavor flavor = ArptablesFlavor.Nft) => BootCommands.Create(
        new ArptablesDialect(flavor),
        [
            new RcVip(Vip, 32, "eth0", "eth0:1", IPAddress.Parse("203.0.113.255"), Rip),
            new RcVip(IPAddress.Parse("203.0.113.101"), 32, "lo", null, null, null),
            new RcVip(IPAddress.Parse("2001:db8::100"), 128, "lo", null, null, null),
            new RcVip(IPAddress.Parse("203.0.113.103"), 32, "eth0", null, null, null),
        ],
        ArpSysctls.Persisted(null, "eth0.100"),
        [new RedirectRule(IPAddress.Parse("203.0.113.102"), RedirectProtocol.Udp, 53, string.Empty)],
        "/etc/lvsdirect/arp.nft",
        new HashSet<IPAddress> { IPAddress.Parse("203.0.113.103") });

    private static IReadOnlyList<string> Described(BootCommands b) => b.Commands.Select(c => c.Describe()).ToList();

    [Fact]
    public void Create_PutsSysctlsAndChainsFirst_ThenRedirects_ThenEachVipsRulesRightBeforeItsAddress()
    {
        Assert.Equal(
            [
                "sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0/100.arp_ignore=1 net.ipv4.conf.eth0/100.arp_announce=2",
                "arptables -I INPUT 1 -j LVSDIRECT-IN",
                "arptables -I OUTPUT 1 -j LVSDIRECT-OUT",
                "nft -f /etc/lvsdirect/arp.nft",
                "iptables -t nat -A PREROUTING -d 203.0.113.102/32 -p udp -m udp --dport 53 -m comment --comment lvsdirect -j REDIRECT",
                "arptables -A LVSDIRECT-IN -d 203.0.113.100 -j DROP",
                "arptables -A LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11",
                "ip addr replace 203.0.113.100/32 dev eth0 label eth0:1 broadcast 203.0.113.255",
                "ip addr replace 203.0.113.101/32 dev lo",
                "ip addr replace 2001:db8::100/128 dev lo nodad",
                "ip addr replace 203.0.113.103/32 dev eth0",
            ],
            Described(Sample()));
        Assert.Equal([BootGate.ArpRules, BootGate.Sysctls, BootGate.None, BootGate.NftTable], Sample().Addresses.Select(a => a.Gate));
    }

    [Theory]
    [InlineData(ArptablesFlavor.Nft)]
    [InlineData(ArptablesFlavor.Legacy)]
    [InlineData(ArptablesFlavor.Jf)]
    public void TheRcLocalBlock_ReadsBackIntoTheSameCommands(ArptablesFlavor flavor)
    {
        var boot = Sample(flavor);

        var content = RcLocal.Merge("#!/bin/sh -e\necho hello\nexit 0\n", RcLocal.RenderBlock(boot));

        Assert.Equal(Described(boot), Described(RcLocal.ReadBlock(content)));
        Assert.Equal(boot.Addresses.Select(a => a.Gate), RcLocal.ReadBlock(content).Addresses.Select(a => a.Gate));
    }

    [Fact]
    public void TheSystemdUnit_ReadsBackIntoTheSameCommands()
    {
        var boot = Sample();

        var unit = SystemdUnit.Content(SystemdUnit.Render(boot));

        Assert.Equal(Described(boot), Described(SystemdUnit.Read(unit)));
    }

    [Fact]
    public void AUnitLvsDirectDidNotWrite_ReadsAsNothing() =>
        Assert.Empty(SystemdUnit.Read("[Service]\nExecStart=/usr/sbin/ip addr replace 203.0.113.100/32 dev eth0\n").Commands);

    [Fact]
    public void AnEarlierVersionsBlock_RulesInTheBuiltinChains_IsRead()
    {
        // LvsDirect 0.1: delete-then-add in INPUT/OUTPUT, a bare sysctl line, `ip addr replace`.
        var old = "#!/bin/sh -e\n" + RcLocal.BeginMarker + "\nPATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH\n"
                  + "sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2\n"
                  + "arptables -D INPUT -d 203.0.113.100 -j DROP 2>/dev/null\narptables -A INPUT -d 203.0.113.100 -j DROP\n"
                  + "arptables -D OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11 2>/dev/null\narptables -A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11\n"
                  + "ip addr replace 203.0.113.100/32 dev eth0 label eth0:1\nip addr add 203.0.113.7 dev lo 2>/dev/null || true\n"
                  + RcLocal.EndMarker + "\nexit 0\n";

        var boot = RcLocal.ReadBlock(old);

        Assert.Equal(
            [
                "sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2",
                "arptables -A INPUT -d 203.0.113.100 -j DROP",
                "arptables -A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11",
                "ip addr replace 203.0.113.100/32 dev eth0 label eth0:1",
                "ip addr replace 203.0.113.7/32 dev lo",
            ],
            Described(boot));
        Assert.Equal(["INPUT", "OUTPUT"], boot.RuleSet!.Rules.Select(r => r.Chain));
        Assert.Equal(Rip, boot.RuleSet.Rules[1].MangleIpSource);
    }

    [Fact]
    public void LinesOutsideTheBlock_AndMessagesInsideIt_AreNotCommands()
    {
        var content = "#!/bin/sh\nip addr add 203.0.113.200/32 dev eth0\n" + RcLocal.BeginMarker
                      + "\necho 'ip addr replace 203.0.113.9/32 dev eth0' >&2\n# ip addr replace 203.0.113.8/32 dev eth0\n" + RcLocal.EndMarker + "\n";

        Assert.Empty(RcLocal.ReadBlock(content).Commands);
        Assert.Empty(RcLocal.ReadBlock("#!/bin/sh\nexit 0\n").Commands);
        Assert.Empty(RcLocal.ReadBlock(null).Commands);
    }

    [Fact]
    public void NothingToRecreate_RendersNoBlockAndNoUnit()
    {
        var none = BootCommands.Create(new ArptablesDialect(ArptablesFlavor.Nft), [], ArpSysctls.Persisted(null, "eth0"));

        Assert.True(none.IsEmpty);
        Assert.Empty(RcLocal.RenderBlock(none));
        Assert.Empty(SystemdUnit.Render(none));
    }
}
