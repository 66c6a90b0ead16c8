using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Model;
using Xunit;
using static LvsDirect.Core.Diagnostics.InterfaceSysctls;
using static LvsDirect.Tests.Diagnostics.DiagnosisBuilder;

namespace LvsDirect.Tests.Diagnostics;

public class RealServerDiagnosisTests
{
    private static readonly IPAddress VipAddress = IPAddress.Parse(Vip);

    private static RealServerCheck One(IEnumerable<RealServerCheck> results, string check, string? target = null) =>
        Assert.Single(results, r => r.Check == check && (target is null || r.Target == target));

    private static void AssertFail(RealServerCheck check, string remediation, CheckStatus status = CheckStatus.Fail)
    {
        Assert.Equal(status, check.Status);
        Assert.Equal(remediation, check.Remediation);
    }

    [Fact]
    public void CorrectRealServer_PassesEveryCheck_WithoutRemediation()
    {
        var results = new DiagnosisBuilder().Run(new DiagnosisRequest { DirectorAddress = IPAddress.Parse("192.0.2.1") });

        Assert.All(results, r => Assert.True(r.Status == CheckStatus.Pass && r.Remediation is null, $"{r.Check} {r.Target}: {r.Detail}"));
        Assert.All(results, r => Assert.Equal("rs1", r.ComputerName));
        Assert.Equal(
            [CheckNames.VipPresent, CheckNames.InterfaceUp, CheckNames.VipPrefix, CheckNames.ArpSuppression, CheckNames.ArpAnnounce,
             CheckNames.ReversePathFilter, CheckNames.VipPersisted, CheckNames.SuppressionPersisted, CheckNames.ArpSysctlScope,
             CheckNames.RcLocal, CheckNames.DefaultGateway],
            results.Select(r => r.Check));
    }

    [Fact]
    public void NoVipAnywhere_Fails()
    {
        var b = new DiagnosisBuilder { LiveRules = string.Empty, SavedRules = null, RcLocal = null }.RemoveAddress("eth0", Vip + "/32");

        var check = One(b.Run(), CheckNames.VipPresent);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Equal("(none)", check.Target);
    }

    [Fact]
    public void VipAddedByHandWithoutSuppression_IsFound_AndFailsSuppressionAndAnnounce()
    {
        var b = new DiagnosisBuilder { LiveRules = string.Empty, SavedRules = null, RcLocal = null };

        var results = b.Run();

        AssertFail(One(results, CheckNames.ArpSuppression, Vip), $"Set-ArpSuppression -VirtualIP {Vip}");
        Assert.Contains("answers ARP requests", One(results, CheckNames.ArpSuppression, Vip).Detail);
        Assert.Equal(CheckStatus.Fail, One(results, CheckNames.ArpAnnounce, Vip).Status);
        AssertFail(One(results, CheckNames.VipPersisted, Vip), "Export-RcLocal");
    }

    [Theory]
    [InlineData("-A INPUT -d 203.0.113.100 -j DROP\n", "Only the INPUT drop rule")]
    [InlineData("-A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11\n", "Only the OUTPUT mangle rule")]
    public void HalfTheRules_FailsSuppression(string rules, string detail)
    {
        var results = new DiagnosisBuilder { LiveRules = rules, SavedRules = null, RcLocal = null }.Run();

        var check = One(results, CheckNames.ArpSuppression, Vip);
        AssertFail(check, $"Set-ArpSuppression -VirtualIP {Vip}");
        Assert.StartsWith(detail, check.Detail);
    }

    [Fact]
    public void RulesForASimilarAddress_DoNotCoverTheVip()
    {
        // 203.0.113.1 is not 203.0.113.10, and a /24 rule is not the seed rule either.
        var b = new DiagnosisBuilder
        {
            LiveRules = "-A INPUT -d 203.0.113.1 -j DROP\n-A OUTPUT -s 203.0.113.1 -j mangle --mangle-ip-s 192.0.2.11\n-A INPUT -d 203.0.113.0/24 -j DROP\n",
            SavedRules = null,
            RcLocal = null,
        }.RemoveAddress("eth0", Vip + "/32").Address("eth0", "203.0.113.10/32");

        var results = b.Run(new DiagnosisRequest { VirtualIPs = [IPAddress.Parse("203.0.113.10")] });

        Assert.Equal(CheckStatus.Fail, One(results, CheckNames.ArpSuppression, "203.0.113.10").Status);
    }

    [Fact]
    public void SysctlMethod_VipOnLoWithAllValues_Passes()
    {
        var results = new DiagnosisBuilder().SysctlMethod().Run();

        var check = One(results, CheckNames.ArpSuppression, Vip);
        Assert.Equal(CheckStatus.Pass, check.Status);
        Assert.StartsWith("sysctl method", check.Detail);
        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.ArpAnnounce, Vip).Status);
        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.VipPersisted, Vip).Status);
    }

    [Fact]
    public void SysctlMethod_ValueOnTheInterfaceCounts_BecauseTheKernelTakesTheMaximum()
    {
        var b = new DiagnosisBuilder().SysctlMethod().Sysctl("all", ArpIgnore, 0).Sysctl("eth0", ArpIgnore, 1);

        Assert.Equal(CheckStatus.Pass, One(b.Run(), CheckNames.ArpSuppression, Vip).Status);
    }

    [Fact]
    public void SysctlsOnLoAlone_FailScopeAndSuppression()
    {
        var b = new DiagnosisBuilder().SysctlMethod()
            .Sysctl("all", ArpIgnore, 0).Sysctl("all", ArpAnnounce, 0)
            .Sysctl("lo", ArpIgnore, 1).Sysctl("lo", ArpAnnounce, 2);

        var results = b.Run();

        var scope = One(results, CheckNames.ArpSysctlScope, "lo");
        Assert.Equal(CheckStatus.Fail, scope.Status);
        Assert.Contains("max(conf/all, conf/<iface>)", scope.Detail);
        Assert.Contains("net.ipv4.conf.all.arp_ignore=1", scope.Remediation);
        Assert.Equal(CheckStatus.Fail, One(results, CheckNames.ArpSuppression, Vip).Status);
        Assert.Equal(CheckStatus.Fail, One(results, CheckNames.ArpAnnounce, Vip).Status);
    }

    [Fact]
    public void SysctlsOnLoAlone_AreOnlyAWarning_WhenArptablesSuppressesEveryVip()
    {
        var b = new DiagnosisBuilder().Sysctl("lo", ArpIgnore, 1);

        Assert.Equal(CheckStatus.Warning, One(b.Run(), CheckNames.ArpSysctlScope, "lo").Status);
    }

    [Fact]
    public void SysctlMethod_DoesNotHelpAVipOnTheArpInterface()
    {
        var b = new DiagnosisBuilder { LiveRules = string.Empty, SavedRules = null }
            .Sysctl("all", ArpIgnore, 1).Sysctl("all", ArpAnnounce, 2);

        var check = One(b.Run(), CheckNames.ArpSuppression, Vip);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("is on eth0", check.Detail);
    }

    [Fact]
    public void SysctlMethod_NeedsEveryArpInterface()
    {
        var b = new DiagnosisBuilder().SysctlMethod().Sysctl("all", ArpIgnore, 0).Sysctl("eth0", ArpIgnore, 1)
            .Nic("eth1", cidrs: "198.51.100.11/24");

        Assert.Equal(CheckStatus.Fail, One(b.Run(), CheckNames.ArpSuppression, Vip).Status);
    }

    [Fact]
    public void ArpAnnounceOne_IsAWarning()
    {
        var b = new DiagnosisBuilder { LiveRules = "-A INPUT -d 203.0.113.100 -j DROP\n", SavedRules = null }.Sysctl("all", ArpAnnounce, 1);

        var check = One(b.Run(), CheckNames.ArpAnnounce, Vip);

        Assert.Equal(CheckStatus.Warning, check.Status);
        Assert.Contains("arp_announce=2", check.Remediation);
    }

    [Fact]
    public void RulesUnreadable_WarnsInsteadOfGuessing()
    {
        var b = new DiagnosisBuilder { LiveRules = null, UnknownReason = "reading them needs root" };

        var results = b.Run();

        var check = One(results, CheckNames.ArpSuppression, Vip);
        Assert.Equal(CheckStatus.Warning, check.Status);
        Assert.Contains("needs root", check.Detail);
        Assert.Equal(CheckStatus.Warning, One(results, CheckNames.ArpAnnounce, Vip).Status);
        Assert.DoesNotContain(results, r => r.Check == CheckNames.SuppressionPersisted);
    }

    [Fact]
    public void ArptablesNotInstalled_MeansNoRules()
    {
        var b = new DiagnosisBuilder { LiveRules = null, ArptablesInstalled = false, SavedRules = null, RcLocal = null };

        Assert.Equal(CheckStatus.Fail, One(b.Run(new DiagnosisRequest { VirtualIPs = [VipAddress] }), CheckNames.ArpSuppression, Vip).Status);
    }

    [Fact]
    public void VipMissing_FailsPresence_WithTheInterfaceFromRcLocal()
    {
        var results = new DiagnosisBuilder().RemoveAddress("eth0", Vip + "/32").Run();

        AssertFail(One(results, CheckNames.VipPresent, Vip), $"New-LvsVip -Address {Vip} -InterfaceName eth0");
        var persisted = One(results, CheckNames.VipPersisted, Vip);
        Assert.Equal(CheckStatus.Fail, persisted.Status);
        Assert.Contains("not configured now", persisted.Detail);
        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.ArpSuppression, Vip).Status);
        Assert.DoesNotContain(results, r => r.Check is CheckNames.InterfaceUp or CheckNames.ReversePathFilter);
    }

    [Fact]
    public void InterfaceDown_Fails()
    {
        var b = new DiagnosisBuilder().Nic("eth0", up: false, mac: "02:00:c0:00:02:0b", "192.0.2.11/24", Vip + "/32");

        AssertFail(One(b.Run(), CheckNames.InterfaceUp, "eth0"), "ip link set dev eth0 up");
    }

    [Fact]
    public void VipOnLo_AlsoNeedsTheInterfaceThatFacesTheDirectorUp()
    {
        var b = new DiagnosisBuilder().SysctlMethod().Nic("eth0", up: false, mac: "02:00:c0:00:02:0b", "192.0.2.11/24");

        var results = b.Run();

        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.InterfaceUp, "lo").Status);
        AssertFail(One(results, CheckNames.InterfaceUp, "eth0"), "ip link set dev eth0 up");
    }

    [Theory]
    [InlineData("lo", CheckStatus.Fail)]
    [InlineData("eth0", CheckStatus.Warning)]
    public void VipWiderThan32_IsReported(string nic, CheckStatus status)
    {
        var b = new DiagnosisBuilder().RemoveAddress("eth0", Vip + "/32").Address(nic, Vip + "/24");

        var check = One(b.Run(new DiagnosisRequest { VirtualIPs = [VipAddress] }), CheckNames.VipPrefix, Vip);

        AssertFail(check, $"ip addr del {Vip}/24 dev {nic}; New-LvsVip -Address {Vip}/32 -InterfaceName {nic}", status);
    }

    [Fact]
    public void StrictRpFilter_WithRepliesLeavingByAnotherInterface_Fails()
    {
        var b = new DiagnosisBuilder().Nic("eth1", cidrs: "198.51.100.11/24").Sysctl("all", RpFilter, 1);
        b.Routes.Clear();
        b.Routes.Add(new DefaultRoute("eth1", IPAddress.Parse("198.51.100.1"), 0));

        var check = One(b.Run(new DiagnosisRequest { DirectorAddress = IPAddress.Parse("192.0.2.1") }), CheckNames.ReversePathFilter, Vip);

        AssertFail(check, "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2");
        Assert.Contains("arrive on eth0", check.Detail);
        Assert.Contains("leaves by eth1", check.Detail);
    }

    [Fact]
    public void StrictRpFilter_OnAVipOnLo_UsesTheDirectorsInterface()
    {
        var b = new DiagnosisBuilder().SysctlMethod().Nic("eth1", cidrs: "198.51.100.11/24").Sysctl("eth0", RpFilter, 1);
        b.Routes.Clear();
        b.Routes.Add(new DefaultRoute("eth1", IPAddress.Parse("198.51.100.1"), 0));

        var results = b.Run(new DiagnosisRequest { DirectorAddress = IPAddress.Parse("192.0.2.1") });

        Assert.Equal(CheckStatus.Fail, One(results, CheckNames.ReversePathFilter, Vip).Status);
    }

    [Theory]
    [InlineData(1, "eth0")]
    [InlineData(2, "eth1")]
    [InlineData(0, "eth1")]
    public void RpFilter_PassesWhenSymmetricLooseOrOff(int value, string defaultInterface)
    {
        var b = new DiagnosisBuilder().Nic("eth1", cidrs: "198.51.100.11/24").Sysctl("eth0", RpFilter, value);
        b.Routes.Clear();
        b.Routes.Add(new DefaultRoute(defaultInterface, IPAddress.Parse(defaultInterface == "eth0" ? "192.0.2.254" : "198.51.100.1"), 0));

        Assert.Equal(CheckStatus.Pass, One(b.Run(), CheckNames.ReversePathFilter, Vip).Status);
    }

    [Fact]
    public void DefaultGatewayIsTheDirector_Fails()
    {
        var b = new DiagnosisBuilder();
        b.Routes[0] = new DefaultRoute("eth0", IPAddress.Parse("192.0.2.1"), 0);

        var check = One(b.Run(new DiagnosisRequest { DirectorAddress = IPAddress.Parse("192.0.2.1") }), CheckNames.DefaultGateway);

        AssertFail(check, "ip route replace default via <your router> dev eth0");
        Assert.Equal(CheckStatus.Pass, One(b.Run(), CheckNames.DefaultGateway).Status);
    }

    [Fact]
    public void NoDefaultRoute_FailsGatewayAndStrictRpFilter()
    {
        var b = new DiagnosisBuilder().Sysctl("all", RpFilter, 1);
        b.Routes.Clear();

        var results = b.Run();

        Assert.Equal(CheckStatus.Fail, One(results, CheckNames.DefaultGateway).Status);
        Assert.Equal(CheckStatus.Fail, One(results, CheckNames.ReversePathFilter, Vip).Status);
    }

    [Fact]
    public void LiveVipMissingFromRcLocal_IsLostAtReboot()
    {
        var b = new DiagnosisBuilder().Address("eth0", "203.0.113.101/32");
        b.LiveRules += "-A INPUT -d 203.0.113.101 -j DROP\n-A OUTPUT -s 203.0.113.101 -j mangle --mangle-ip-s 192.0.2.11\n";

        var results = b.Run();

        AssertFail(One(results, CheckNames.VipPersisted, "203.0.113.101"), "Export-RcLocal");
        AssertFail(One(results, CheckNames.SuppressionPersisted, "203.0.113.101"), "Save-ArpSuppression, or Export-RcLocal");
        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.VipPersisted, Vip).Status);
    }

    [Fact]
    public void RcLocalWithAnotherPrefixOrInterface_IsDrift()
    {
        var b = new DiagnosisBuilder { RcLocal = RenderRcLocal((Vip, 32, "lo", "192.0.2.11")) };

        var check = One(b.Run(), CheckNames.VipPersisted, Vip);

        AssertFail(check, "Export-RcLocal");
        Assert.Contains("dev lo at boot, but now it is 203.0.113.100/32 dev eth0", check.Detail);
    }

    [Fact]
    public void SavedRulesForAVipThatIsGone_AreDrift_AndTheVipIsStillChecked()
    {
        var b = new DiagnosisBuilder
        {
            SavedRules = "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n" + Rules + "-A INPUT -d 203.0.113.102 -j DROP\n-A OUTPUT -s 203.0.113.102 -j mangle --mangle-ip-s 192.0.2.11\nCOMMIT\n",
        };

        var results = b.Run();

        Assert.Equal(CheckStatus.Fail, One(results, CheckNames.VipPresent, "203.0.113.102").Status);
        var check = One(results, CheckNames.SuppressionPersisted, "203.0.113.102");
        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.StartsWith("/etc/sysconfig/arptables restore ARP suppression for 203.0.113.102 at boot, but none is live now", check.Detail);
    }

    [Fact]
    public void SavedRulesWithAnotherRealIP_AreDrift()
    {
        var b = new DiagnosisBuilder { SavedRules = Rules.Replace("--mangle-ip-s 192.0.2.11", "--mangle-ip-s 192.0.2.99") };

        var check = One(b.Run(), CheckNames.SuppressionPersisted, Vip);

        AssertFail(check, "Save-ArpSuppression");
        Assert.Contains("mangle to 192.0.2.99", check.Detail);
    }

    [Fact]
    public void JfChainNamesInSavedRules_CountAsTheSameRules()
    {
        var b = new DiagnosisBuilder { SavedRules = Rules.Replace("INPUT", "IN").Replace("OUTPUT", "OUT"), RcLocal = null };

        Assert.Equal(CheckStatus.Pass, One(b.Run(), CheckNames.SuppressionPersisted, Vip).Status);
    }

    [Fact]
    public void RulesOnlyInRcLocal_ArePersisted()
    {
        Assert.Equal(CheckStatus.Pass, One(new DiagnosisBuilder { SavedRules = null }.Run(), CheckNames.SuppressionPersisted, Vip).Status);
    }

    [Fact]
    public void UnreadableBootFiles_AreWarnings_NotDrift()
    {
        var b = new DiagnosisBuilder();
        var snapshot = b.Snapshot();
        var unreadable = new RealServerSnapshot
        {
            ComputerName = snapshot.ComputerName,
            State = snapshot.State,
            Sysctls = snapshot.Sysctls,
            Persisted = snapshot.Persisted with { SavedRules = null, Boot = Core.Persistence.BootCommands.Empty, HasBlock = false, Unreadable = ["/etc/rc.local", "/etc/sysconfig/arptables"] },
        };

        var results = RealServerDiagnosis.Run(unreadable, new DiagnosisRequest());

        Assert.Equal(CheckStatus.Warning, One(results, CheckNames.VipPersisted, Vip).Status);
        Assert.Equal(CheckStatus.Warning, One(results, CheckNames.SuppressionPersisted, Vip).Status);
    }

    [Fact]
    public void RcLocalNotExecutable_Fails()
    {
        AssertFail(One(new DiagnosisBuilder { RcLocalExecutable = false }.Run(), CheckNames.RcLocal), "Export-RcLocal");
    }

    [Fact]
    public void SysctlMethod_WithoutBootSettings_IsLostAtReboot_AndWithThemPersisted()
    {
        var b = new DiagnosisBuilder().SysctlMethod();
        var before = One(b.Run(), CheckNames.SuppressionPersisted, Vip);
        b.BootSysctls[("all", ArpIgnore)] = 1;
        b.BootSysctls[("all", ArpAnnounce)] = 2;
        var after = One(b.Run(), CheckNames.SuppressionPersisted, Vip);

        Assert.Equal(CheckStatus.Fail, before.Status);
        Assert.Contains("-Method Sysctl", before.Remediation);
        Assert.Equal(CheckStatus.Pass, after.Status);
    }

    [Fact]
    public void Listener_OnTheVipOrEveryAddress_Passes_OtherwiseFails()
    {
        var b = new DiagnosisBuilder
        {
            Listeners = ListeningSocket.ParseSs("tcp LISTEN 0 5 203.0.113.100:80 0.0.0.0:*\ntcp LISTEN 0 5 [::]:443 [::]:*\nudp UNCONN 0 0 127.0.0.1:53 0.0.0.0:*\n").ToList(),
        };
        ServiceEndpoint Tcp(int port) => new(VipAddress, port, "tcp");

        var results = b.Run(new DiagnosisRequest { Services = [Tcp(80), Tcp(443), Tcp(8080), new(VipAddress, 53, "udp"), new(VipAddress, 80, "sctp")] });

        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.Listener, $"{Vip}:80/tcp").Status);
        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.Listener, $"{Vip}:443/tcp").Status);
        var missing = One(results, CheckNames.Listener, $"{Vip}:8080/tcp");
        Assert.Equal(CheckStatus.Fail, missing.Status);
        Assert.StartsWith($"Start the service bound to {Vip}:8080 or 0.0.0.0:8080", missing.Remediation);
        Assert.Equal(CheckStatus.Fail, One(results, CheckNames.Listener, $"{Vip}:53/udp").Status);
        Assert.Equal(CheckStatus.Warning, One(results, CheckNames.Listener, $"{Vip}:80/sctp").Status);
    }

    [Fact]
    public void DiscoverVips_FindsLiveBootAndHandMadeVips_ButNotTheHostsOwnAddresses()
    {
        var b = new DiagnosisBuilder
        {
            RcLocal = RenderRcLocal((Vip, 32, "eth0", "192.0.2.11"), ("203.0.113.103", 32, "eth0", null)),
            SavedRules = "-A IN -d 203.0.113.104 -j DROP\n",
        }.Address("lo", "203.0.113.101/32").Address("eth0", "203.0.113.102/32");

        var vips = RealServerDiagnosis.DiscoverVips(b.Snapshot()).Select(v => v.ToString());

        Assert.Equal(["203.0.113.100", "203.0.113.101", "203.0.113.102", "203.0.113.103", "203.0.113.104"], vips.Order());
    }
}
