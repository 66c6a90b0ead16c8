using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using Xunit;

namespace LvsDirect.Tests.Diagnostics;

public class RealServerTestTests
{
    private static readonly IPAddress Rs1 = IPAddress.Parse("192.0.2.11");
    private static readonly IPAddress Rs2 = IPAddress.Parse("192.0.2.12");

    private static RealServerTest Test() => new(
        [
            new DiagnosisInput([IPAddress.Parse("203.0.113.100")], [80], "tcp", [Rs1]),
            new DiagnosisInput([IPAddress.Parse("203.0.113.101")], [443], "tcp", [Rs2]),
        ],
        IPAddress.Parse("192.0.2.1"),
        new DiagnosisPaths { RcLocalPath = "/srv/rc.local", NftConfigPaths = ["/srv/nftables.conf"] });

    [Fact]
    public void EachHostIsCheckedOnlyForTheServicesThatNameIt_AndSaysWhichItSkipped()
    {
        var diagnosis = Test().Diagnose(new DiagnosisBuilder().Snapshot());

        Assert.Contains(diagnosis.Results, r => r.Check == CheckNames.Listener && r.Target == "203.0.113.100:80/tcp");
        Assert.DoesNotContain(diagnosis.Results, r => r.Target.StartsWith("203.0.113.101", StringComparison.Ordinal));
        Assert.Equal("Skipped 203.0.113.101: none of its real servers (192.0.2.12) is an address of this host.", Assert.Single(diagnosis.Skipped));
        Assert.Null(diagnosis.Warning);
    }

    [Fact]
    public void AHostNoServiceNames_GetsNoChecks_AWarning_AndAFalseVerdict()
    {
        var test = new RealServerTest([new DiagnosisInput(null, [80], "tcp", [Rs2])], null, new DiagnosisPaths());

        var diagnosis = test.Diagnose(new DiagnosisBuilder().Snapshot());

        Assert.Empty(diagnosis.Results);
        Assert.StartsWith("None of the 1 virtual service(s) names an address of this host", diagnosis.Warning);
        Assert.False(RealServerTest.Verdict(diagnosis.Results));
    }

    [Fact]
    public void OverRemoting_AHostGetsTheVipsAndPortsOfItsServices_AndEveryPathGiven()
    {
        var p = Test().RemotingParameters(Rs2.ToString(), namedHosts: false);

        Assert.Equal(["203.0.113.101"], (string[])p["VirtualIP"]);
        Assert.Equal([443], (int[])p["Port"]);
        Assert.Equal("192.0.2.1", p["DirectorAddress"]);
        Assert.Equal("/srv/rc.local", p["RcLocalPath"]);
        Assert.Equal("/srv/nftables.conf", p["NftConfigPath"]);
        Assert.False(p.ContainsKey("NftRulesPath"));
        Assert.Equal(2, ((string[])Test().RemotingParameters("rs1", namedHosts: true)["VirtualIP"]).Length);
    }

    [Fact]
    public void AnUnknownHostKey_IsAFailedConnectionCheck_NamingTheFix()
    {
        var c = RealServerTest.ConnectionFailure("rs1", "no key", LvsErrorKind.HostKeyUnknown);

        Assert.Equal(CheckStatus.Fail, c.Status);
        Assert.Equal(CheckNames.Connection, c.Check);
        Assert.StartsWith("ssh-keyscan rs1", c.Remediation);
        Assert.False(RealServerTest.Verdict([c]));
    }
}
