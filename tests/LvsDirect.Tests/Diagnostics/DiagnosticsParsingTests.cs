using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using Xunit;

namespace LvsDirect.Tests.Diagnostics;

public class DiagnosticsParsingTests
{
    [Fact]
    public void ParseSs_ReadsWildcardsInterfaceSuffixesAndIPv6()
    {
        var text = "tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*\n"
                   + "tcp   LISTEN 0      4096            [::]:22           [::]:*\n"
                   + "tcp   LISTEN 0      5                  *:8080            *:*\n"
                   + "udp   UNCONN 0      0      127.0.0.53%lo:53        0.0.0.0:*\n"
                   + "tcp   LISTEN 0      5      203.0.113.100:80        0.0.0.0:*\n"
                   + "tcp   LISTEN 0      5   [::ffff:203.0.113.100]:81  [::]:*\n"
                   + "garbage\n";

        var sockets = ListeningSocket.ParseSs(text);

        Assert.Equal(6, sockets.Count);
        Assert.Null(sockets[0].Address);
        Assert.Null(sockets[1].Address);
        Assert.Null(sockets[2].Address);
        Assert.Equal(IPAddress.Parse("127.0.0.53"), sockets[3].Address);
        Assert.Equal("udp", sockets[3].Protocol);
        var vip = IPAddress.Parse("203.0.113.100");
        Assert.True(sockets[4].Accepts("tcp", vip, 80));
        Assert.False(sockets[4].Accepts("tcp", IPAddress.Parse("203.0.113.10"), 80));
        Assert.False(sockets[4].Accepts("udp", vip, 80));
        Assert.True(sockets[5].Accepts("tcp", vip, 81));
        Assert.True(sockets[2].Accepts("tcp", vip, 8080));
        Assert.False(sockets[3].Accepts("udp", vip, 53));
    }

    [Fact]
    public void ParseReplies_ReadsEveryReply_FromIputilsArping()
    {
        // iputils 20221126, with a real server answering besides the director; exit code 0 or 1 alike.
        var stdout = "ARPING 203.0.113.100 from 192.0.2.50 eth0\n"
                     + "Unicast reply from 203.0.113.100 [02:00:C0:00:02:01]  0.643ms\n"
                     + "Unicast reply from 203.0.113.100 [02:00:C0:00:02:0B]  0.701ms\n"
                     + "Unicast reply from 203.0.113.100 [02:00:C0:00:02:01]  0.512ms\n"
                     + "Sent 2 probes (2 broadcast(s))\nReceived 3 response(s)\n";

        var replies = ArpingOutput.ParseReplies(stdout);

        Assert.Equal(3, replies.Count);
        Assert.Equal(["02:00:c0:00:02:01", "02:00:c0:00:02:0b"], replies.Select(r => r.MacAddress).Distinct());
        Assert.All(replies, r => Assert.Equal(IPAddress.Parse("203.0.113.100"), r.Address));
        Assert.Empty(ArpingOutput.ParseReplies("ARPING 203.0.113.100 from 192.0.2.50 eth0\nSent 3 probes (3 broadcast(s))\nReceived 0 response(s)\n"));
    }

    [Fact]
    public void Command_AlwaysBroadcasts()
    {
        Assert.Equal("arping -b -c 3 -w 4 -I eth0 203.0.113.100", ArpingOutput.Command(IPAddress.Parse("203.0.113.100"), "eth0", 3, 4).ToDisplayString());
    }

    [Fact]
    public void ParseNeighbours_MapsMacsToAddresses_SkippingIncompleteEntries()
    {
        var json = "[{\"dst\":\"192.0.2.11\",\"dev\":\"eth0\",\"lladdr\":\"02:00:C0:00:02:0B\",\"state\":[\"REACHABLE\"]},"
                   + "{\"dst\":\"192.0.2.12\",\"dev\":\"eth0\",\"state\":[\"FAILED\"]},"
                   + "{\"dst\":\"192.0.2.1\",\"dev\":\"eth0\",\"lladdr\":\"02:00:c0:00:02:01\",\"state\":[\"STALE\"]},"
                   + "{\"dst\":\"fe80::1\",\"dev\":\"eth0\",\"lladdr\":\"02:00:c0:00:02:01\",\"state\":[\"STALE\"]}]";

        var n = ArpingOutput.ParseNeighbours(json);

        Assert.Equal([IPAddress.Parse("192.0.2.11")], n["02:00:c0:00:02:0b"]);
        Assert.Equal([IPAddress.Parse("192.0.2.1")], n["02:00:c0:00:02:01"]);
        Assert.Empty(ArpingOutput.ParseNeighbours("")["02:00:c0:00:02:01"]);
    }

    [Fact]
    public void ParseRouteDevice_ReadsIpRouteGet()
    {
        Assert.Equal("eth0", ArpingOutput.ParseRouteDevice("[{\"dst\":\"203.0.113.100\",\"gateway\":\"192.0.2.1\",\"dev\":\"eth0\",\"prefsrc\":\"192.0.2.50\",\"flags\":[],\"uid\":0,\"cache\":[]}]\n"));
        Assert.Null(ArpingOutput.ParseRouteDevice("[]"));
    }

    [Fact]
    public void PersistedConfig_ReadsTheBlockExportRcLocalWrites_AndIgnoresLinesOutsideIt()
    {
        var block = RcLocal.RenderBlock(new ArptablesDialect(ArptablesFlavor.Jf), [
            new RcVip(IPAddress.Parse("203.0.113.100"), 32, "eth0", "eth0:1", IPAddress.Parse("203.0.113.100"), IPAddress.Parse("192.0.2.11")),
            new RcVip(IPAddress.Parse("203.0.113.101"), 32, "lo", null, null, null),
        ]);
        var text = RcLocal.Merge("#!/bin/sh\nip addr add 203.0.113.200/32 dev eth0\nsysctl -w net.ipv4.conf.all.arp_ignore=1\nexit 0\n", block);

        var p = PersistedConfig.Parse("/etc/rc.local", text, true, null, null);

        Assert.True(p.HasBlock);
        Assert.Equal([new PersistedAddress(IPAddress.Parse("203.0.113.100"), 32, "eth0"), new PersistedAddress(IPAddress.Parse("203.0.113.101"), 32, "lo")], p.RcAddresses);
        Assert.Equal(2, p.RcRules!.Rules.Count);
        Assert.Equal(["LVSDIRECT-IN", "LVSDIRECT-OUT"], p.RcRules.Rules.Select(r => r.Chain));
        Assert.Null(p.BlockProblem);
        Assert.Equal(IPAddress.Parse("192.0.2.11"), p.RcRules.Rules[1].MangleIpSource);
        Assert.Null(p.BootSysctl("all", "arp_ignore"));
    }

    [Fact]
    public void PersistedConfig_ReadsTheSysctlLineOfTheBlock_AfterTheSysctlFiles()
    {
        var text = "#!/bin/sh\n" + RcLocal.BeginMarker + "\nsysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_announce=2\n"
                   + "ip addr replace 203.0.113.100/32 dev lo\n" + RcLocal.EndMarker + "\nexit 0\n";
        var files = new Dictionary<(string, string), int> { [("all", "arp_ignore")] = 0, [("lo", "arp_ignore")] = 1 };

        var p = PersistedConfig.Parse("/etc/rc.local", text, true, null, null, files);

        Assert.Equal(1, p.BootSysctl("all", "arp_ignore"));
        Assert.Equal(2, p.BootSysctl("all", "arp_announce"));
        Assert.Equal(2, p.BootSysctl("eth0", "arp_announce"));
        Assert.Equal(1, p.BootSysctl("lo", "arp_ignore"));
        Assert.Equal([new PersistedAddress(IPAddress.Parse("203.0.113.100"), 32, "lo")], p.RcAddresses);
    }

    [Fact]
    public void PersistedConfig_WithoutRcLocal_HasNoBlock()
    {
        var p = PersistedConfig.Parse("/etc/rc.local", null, false, "/etc/sysconfig/arptables", null);

        Assert.False(p.RcLocalExists);
        Assert.False(p.HasBlock);
        Assert.Empty(p.RcAddresses);
        Assert.Null(p.RcRules);
        Assert.Null(p.SavedRules);
    }

    [Fact]
    public void PersistedConfig_ReadsSysctlFilesInOrder_TheLaterWinning()
    {
        var root = Directory.CreateTempSubdirectory("lvs-sysctl-");
        try
        {
            Directory.CreateDirectory(Path.Combine(root.FullName, "etc", "sysctl.d"));
            Directory.CreateDirectory(Path.Combine(root.FullName, "usr", "lib", "sysctl.d"));
            File.WriteAllText(Path.Combine(root.FullName, "usr", "lib", "sysctl.d", "10-lvs.conf"), "net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce=2\n");
            File.WriteAllText(Path.Combine(root.FullName, "etc", "sysctl.d", "20-override.conf"), "# net.ipv4.conf.all.arp_announce=0\nnet/ipv4/conf/eth0/arp_ignore=2\n");
            File.WriteAllText(Path.Combine(root.FullName, "etc", "sysctl.conf"), "net.ipv4.conf.all.arp_ignore=0\n");

            var files = PersistedConfig.DefaultSysctlFiles(root.FullName);
            var p = PersistedConfig.Read(null, null, files);

            Assert.Equal(["10-lvs.conf", "20-override.conf", "sysctl.conf"], files.Select(Path.GetFileName));
            Assert.Equal(0, p.BootSysctl("all", "arp_ignore"));
            Assert.Equal(2, p.BootSysctl("all", "arp_announce"));
            Assert.Equal(2, p.BootSysctl("eth0", "arp_ignore"));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void PersistedConfig_AnUnreadableFile_IsUnknown_NotAnError()
    {
        // Reading /proc/self/mem from offset 0 fails with EIO even for root, like a 0600 file does for a user.
        const string unreadable = "/proc/self/mem";

        var p = PersistedConfig.Read("/nonexistent/rc.local", unreadable, [unreadable]);

        Assert.Equal([unreadable, unreadable], p.Unreadable);
        Assert.Null(p.SavedRules);
        Assert.False(p.RcLocalExists);
    }

    [Fact]
    public void InterfaceSysctls_ReadsProcLayout_AndAppliesTheMaximum()
    {
        var root = Directory.CreateTempSubdirectory("lvs-conf-");
        try
        {
            foreach (var (conf, ignore, rp) in new[] { ("all", "0", "1"), ("eth0", "1", "0"), ("lo", "1", "0") })
            {
                Directory.CreateDirectory(Path.Combine(root.FullName, conf));
                File.WriteAllText(Path.Combine(root.FullName, conf, "arp_ignore"), ignore + "\n");
                File.WriteAllText(Path.Combine(root.FullName, conf, "rp_filter"), rp + "\n");
            }

            var s = InterfaceSysctls.Read(root.FullName);

            Assert.Equal(1, s.Effective("eth0", InterfaceSysctls.ArpIgnore));
            Assert.Equal(1, s.Effective("eth0", InterfaceSysctls.RpFilter));
            Assert.Equal(0, s.Effective("eth1", InterfaceSysctls.ArpIgnore));
            Assert.False(s.Has("all", InterfaceSysctls.ArpAnnounce));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
