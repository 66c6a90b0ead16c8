using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using Xunit;
using static LvsDirect.Tests.Diagnostics.DiagnosisBuilder;

namespace LvsDirect.Tests.Diagnostics;

/// <summary>
/// Rules that exist but do not take effect (a rule the kernel tries first could accept the VIP's ARP), and boot
/// files whose block never runs: neither may be reported as in place.
/// </summary>
public class ShadowAndBootFileTests
{
    private const string OwnChains =
        "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:LVSDIRECT-IN -\n:LVSDIRECT-OUT -\n"
        + "-A INPUT -j LVSDIRECT-IN\n-A OUTPUT -j LVSDIRECT-OUT\n"
        + "-A LVSDIRECT-IN -j DROP -d 203.0.113.100\n-A LVSDIRECT-OUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n";

    private static readonly IPAddress VipAddress = IPAddress.Parse(Vip);

    private static HostState State(string save) => new([], [], ArptablesRuleSet.Parse(save), new ArptablesDialect(ArptablesFlavor.Nft));

    private static RealServerCheck One(IEnumerable<RealServerCheck> results, string check) => Assert.Single(results, r => r.Check == check && (r.Target == Vip || check == CheckNames.RcLocal));

    [Theory]
    [InlineData("-A INPUT -j ACCEPT\n", "'-A INPUT -j ACCEPT' comes before the jump to LVSDIRECT-IN")]
    [InlineData("-A INPUT -j ACCEPT -d 203.0.113.0/24\n", "comes before the jump")]
    [InlineData("-A INPUT -j ACCEPT -d 203.0.113.0/255.255.255.0\n", "comes before the jump")]
    [InlineData("-A INPUT -j ACCEPT -s 192.0.2.99\n", "comes before the jump")]
    [InlineData("-A INPUT -j FOREIGN\n", "'-A INPUT -j FOREIGN'")]
    [InlineData("-A OUTPUT -j ACCEPT\n", "before the jump to LVSDIRECT-OUT")]
    public void ARuleAheadOfOurJumpThatCouldAcceptTheVip_IsShadowed(string ahead, string reason)
    {
        var chain = ahead.Split(' ')[1];
        var save = OwnChains.Replace($"-A {chain} -j LVSDIRECT", ahead + $"-A {chain} -j LVSDIRECT");

        var state = State(save);

        Assert.Equal(SuppressionState.Shadowed, state.SuppressionFor(VipAddress));
        Assert.Contains(reason, state.ShadowFor(VipAddress));
    }

    [Theory]
    [InlineData("-A INPUT -j ACCEPT -d 198.51.100.9\n")]
    [InlineData("-A INPUT -j ACCEPT -d 198.51.100.0/24\n")]
    [InlineData("-A INPUT -j DROP -s 192.0.2.99\n")]
    [InlineData("-A INPUT --opcode 2\n")]
    public void ARuleAheadThatCannotAcceptTheVip_LeavesItComplete(string ahead)
    {
        var state = State(OwnChains.Replace("-A INPUT -j LVSDIRECT", ahead + "-A INPUT -j LVSDIRECT"));

        Assert.Equal(SuppressionState.Complete, state.SuppressionFor(VipAddress));
        Assert.Null(state.ShadowFor(VipAddress));
    }

    [Fact]
    public void ForeignRulesAfterOurJump_LeaveItComplete() =>
        Assert.Equal(SuppressionState.Complete, State(OwnChains + "-A INPUT -j ACCEPT\n-A OUTPUT -j ACCEPT\n").SuppressionFor(VipAddress));

    [Fact]
    public void OurRulesWithoutAJump_AreShadowed()
    {
        var state = State(OwnChains.Replace("-A INPUT -j LVSDIRECT-IN\n", string.Empty));

        Assert.Equal(SuppressionState.Shadowed, state.SuppressionFor(VipAddress));
        Assert.Contains("no rule of INPUT jumps to LVSDIRECT-IN", state.ShadowFor(VipAddress));
    }

    [Fact]
    public void SeedRulesInTheBuiltinChains_AreShadowedByAnAcceptAheadOfThem_AndCompleteOtherwise()
    {
        var seed = "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.100\n-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n";

        Assert.Equal(SuppressionState.Complete, State(seed + "-A INPUT -j ACCEPT\n").SuppressionFor(VipAddress));
        Assert.Equal(SuppressionState.Shadowed, State(seed.Replace("-A INPUT -j DROP", "-A INPUT -j ACCEPT\n-A INPUT -j DROP")).SuppressionFor(VipAddress));
    }

    [Fact]
    public void TestLvsRealServer_FailsAShadowedVip_AndNamesTheCommandThatPutsOurJumpFirst()
    {
        var b = new DiagnosisBuilder { LiveRules = OwnChains.Replace("-A INPUT -j LVSDIRECT", "-A INPUT -j ACCEPT\n-A INPUT -j LVSDIRECT") };

        var check = One(b.Run(), CheckNames.ArpSuppression);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("-A INPUT -j ACCEPT", check.Detail);
        Assert.Equal($"Set-ArpSuppression -VirtualIP {Vip}", check.Remediation);
    }

    [Fact]
    public void OwnChainRules_InTheSavedFileAndTheBlock_ArePersisted()
    {
        var b = new DiagnosisBuilder { LiveRules = OwnChains, SavedRules = OwnChains + "COMMIT\n" };

        var results = b.Run();

        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.ArpSuppression).Status);
        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.SuppressionPersisted).Status);
        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.VipPersisted).Status);
        Assert.Equal(CheckStatus.Pass, One(results, CheckNames.RcLocal).Status);
    }

    [Theory]
    [InlineData("crlf", "\\r", "sed -i")]
    [InlineData("exit", "ends the script", "Export-RcLocal")]
    [InlineData("heredoc", "here-document", "Export-RcLocal")]
    [InlineData("noexec", "not executable", "Export-RcLocal")]
    public void ABlockThatCannotRun_FailsThePersistenceChecks(string layout, string reason, string remedy)
    {
        var block = string.Join('\n', RcLocal.RenderBlock(new ArptablesDialect(ArptablesFlavor.Nft), [new RcVip(VipAddress, 32, "eth0", null, null, IPAddress.Parse("192.0.2.11"))])) + "\n";
        var text = layout switch
        {
            "crlf" => ("#!/bin/sh -e\n" + block + "exit 0\n").Replace("\n", "\r\n"),
            "exit" => "#!/bin/sh -e\nexit 0 # done\n" + block,
            "heredoc" => "#!/bin/sh\ncat <<EOF >/etc/motd\n" + block + "EOF\n",
            _ => "#!/bin/sh\n" + block,
        };
        var b = new DiagnosisBuilder { RcLocal = text, RcLocalExecutable = layout != "noexec", SavedRules = null };

        var results = b.Run();

        foreach (var name in new[] { CheckNames.VipPersisted, CheckNames.SuppressionPersisted, CheckNames.RcLocal })
        {
            var check = One(results, name);
            Assert.Equal(CheckStatus.Fail, check.Status);
            Assert.Contains(reason, check.Detail);
            Assert.Contains(remedy, check.Remediation);
        }
    }
}
