using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using Xunit;
using static LvsDirect.Tests.Diagnostics.DiagnosisBuilder;

namespace LvsDirect.Tests.Diagnostics;

/// <summary>Test-LvsRealServer's checks for the methods beyond arptables and the sysctls: nftables, REDIRECT, IPv6.</summary>
public class MethodDiagnosisTests
{
    private const string Vip6 = "2001:db8::100";

    private static RealServerCheck One(IEnumerable<RealServerCheck> results, string check, string? target = null) =>
        Assert.Single(results, r => r.Check == check && (target is null || r.Target == target));

    private static void AssertAllPass(IEnumerable<RealServerCheck> results) =>
        Assert.All(results, r => Assert.True(r.Status == CheckStatus.Pass && r.Remediation is null, $"{r.Check} {r.Target}: {r.Status} {r.Detail}"));

    [Fact]
    public void NftablesMethod_Saved_AndIncluded_PassesEveryCheck()
    {
        var results = new DiagnosisBuilder().NftMethod().Run(new DiagnosisRequest { DirectorAddress = IPAddress.Parse("192.0.2.1") });

        AssertAllPass(results);
        Assert.Contains("nftables", One(results, CheckNames.ArpSuppression, Vip).Detail, StringComparison.Ordinal);
        Assert.Contains("192.0.2.11", One(results, CheckNames.ArpAnnounce, Vip).Detail, StringComparison.Ordinal);
        Assert.Contains("included from /etc/nftables.conf", One(results, CheckNames.SuppressionPersisted, Vip).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void NftablesMethod_OnAHostWithoutArptables_Passes()
    {
        var b = new DiagnosisBuilder().NftMethod();
        b.LiveRules = null;
        b.ArptablesInstalled = false;

        AssertAllPass(b.Run());
    }

    [Fact]
    public void NftablesMethod_TableNotReadable_IsAWarning_NotAGuess()
    {
        var b = new DiagnosisBuilder().NftMethod();
        b.LiveRules = null;
        b.UnknownReason = "reading them needs root";
        b.NftEntries = null;

        Assert.Equal(CheckStatus.Warning, One(b.Run(), CheckNames.ArpSuppression, Vip).Status);
    }

    [Fact]
    public void NftablesMethod_FileNotIncluded_FailsPersistence()
    {
        var check = One(new DiagnosisBuilder().NftMethod(included: false).Run(), CheckNames.SuppressionPersisted, Vip);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Equal("Save-ArpSuppression -Method Nftables", check.Remediation);
        Assert.Contains("no nftables configuration (/etc/nftables.conf) includes it", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void NftablesMethod_FileWithAnotherRealIP_FailsPersistence()
    {
        var b = new DiagnosisBuilder().NftMethod();
        b.NftBoot = NftPersistence.Parse(NftConf.DefaultPath, NftConf.Render([new NftArpEntry(IPAddress.Parse(Vip), true, IPAddress.Parse("192.0.2.12"))]),
            [("/etc/nftables.conf", NftConf.IncludeLine(NftConf.DefaultPath) + "\n")]);

        var check = One(b.Run(), CheckNames.SuppressionPersisted, Vip);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("mangle to 192.0.2.12, but live it is the drop rule and mangle to 192.0.2.11", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void NftablesMethod_HalfTheTable_FailsSuppression()
    {
        var b = new DiagnosisBuilder().NftMethod();
        b.NftEntries = [new NftArpEntry(IPAddress.Parse(Vip), false, IPAddress.Parse("192.0.2.11"))];

        var check = One(b.Run(), CheckNames.ArpSuppression, Vip);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("Only the OUTPUT mangle rule", check.Detail, StringComparison.Ordinal);
        Assert.Equal($"Set-ArpSuppression -VirtualIP {Vip} -Method Nftables", check.Remediation);
    }

    [Fact]
    public void NftPersistence_ParsesTheFileItWrites_AndFindsTheInclude()
    {
        var entries = new List<NftArpEntry>
        {
            new(IPAddress.Parse("203.0.113.100"), true, IPAddress.Parse("192.0.2.11")),
            new(IPAddress.Parse("203.0.113.101"), true, IPAddress.Parse("192.0.2.11")),
        };

        var p = NftPersistence.Parse("/x/arp.nft", NftConf.Render(entries), [("/a.conf", "include \"/y/arp.nft\"\n"), ("/b.conf", "  include \"/x/arp.nft\"\n")]);

        Assert.Equal(entries, p.Entries);
        Assert.Equal("/b.conf", p.IncludedFrom);
        Assert.Null(NftPersistence.Parse("/x/arp.nft", null, []).Entries);
    }

    [Fact]
    public void RedirectMethod_NoAddress_PassesVipAndSuppression_SayingWhy()
    {
        var b = new DiagnosisBuilder { LiveRules = string.Empty, SavedRules = null, RcLocal = null }.RemoveAddress("eth0", Vip + "/32");
        b.Redirects = [new RedirectRule(IPAddress.Parse(Vip), RedirectProtocol.Tcp, 80, "-A PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 80 -m comment --comment lvsdirect -j REDIRECT")];

        var results = b.Run(new DiagnosisRequest { DirectorAddress = IPAddress.Parse("192.0.2.1") });

        AssertAllPass(results);
        Assert.Contains("REDIRECT method", One(results, CheckNames.VipPresent, Vip).Detail, StringComparison.Ordinal);
        Assert.Contains("tcp/80", One(results, CheckNames.VipPresent, Vip).Detail, StringComparison.Ordinal);
        Assert.Contains("never answers ARP", One(results, CheckNames.ArpSuppression, Vip).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void RedirectMethod_WithoutTheRule_FailsVipPresent()
    {
        var b = new DiagnosisBuilder { LiveRules = string.Empty, SavedRules = null, RcLocal = null }.RemoveAddress("eth0", Vip + "/32");
        b.Redirects = [];

        var check = One(b.Run(new DiagnosisRequest { VirtualIPs = [IPAddress.Parse(Vip)] }), CheckNames.VipPresent, Vip);

        Assert.Equal(CheckStatus.Fail, check.Status);
    }

    [Fact]
    public void IPv6Vip_OnLo_PassesWithoutArpChecks()
    {
        var b = new DiagnosisBuilder().Address("lo", Vip6 + "/128");
        b.RcLocal = null;

        var results = b.Run(new DiagnosisRequest { VirtualIPs = [IPAddress.Parse(Vip6)] });

        Assert.Equal([CheckNames.VipPresent, CheckNames.NeighbourDiscovery, CheckNames.VipPersisted],
            results.Where(r => r.Target == Vip6).Select(r => r.Check));
        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.NeighbourDiscovery, Vip6).Status);
        Assert.DoesNotContain(results, r => r.Target == Vip6 && r.Check is CheckNames.ArpSuppression or CheckNames.ArpAnnounce);
    }

    [Fact]
    public void IPv6Vip_OnTheFacingInterface_FailsNeighbourDiscovery_AndIsFoundWithoutBeingNamed()
    {
        var b = new DiagnosisBuilder().Address("eth0", Vip6 + "/128");

        var check = One(b.Run(), CheckNames.NeighbourDiscovery, Vip6);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Equal($"Remove-LvsVip -Address {Vip6} -InterfaceName eth0; New-LvsVip -Address {Vip6}", check.Remediation);
    }

    [Fact]
    public void IPv6Vip_InTheRcLocalBlock_CountsAsPersisted()
    {
        var b = new DiagnosisBuilder().Address("lo", Vip6 + "/128");
        b.RcLocal = RenderRcLocal((Vip, 32, "eth0", "192.0.2.11"), (Vip6, 128, "lo", null));

        Assert.Equal(CheckStatus.Pass, One(b.Run(), CheckNames.VipPersisted, Vip6).Status);
    }
}
