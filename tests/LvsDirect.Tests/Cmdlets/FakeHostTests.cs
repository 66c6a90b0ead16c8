using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Tools;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Cmdlets;

/// <summary>The fake host answers which programs it has, and no cmdlet test reaches a real program.</summary>
[Collection(CmdletCollection.Name)]
public class FakeHostTests
{
    [Fact]
    public void AFakeHostWithoutArptables_IsReadThroughNftablesAlone_ThoughThisMachineHasArptables()
    {
        var runner = FakeRunner.Host().Without("arptables");
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("Get-ArpSuppression; Get-LvsVip -All");

        Assert.Empty(errors);
        Assert.DoesNotContain(runner.Commands, c => c.Program == "arptables");
        Assert.Contains(runner.Commands, c => c.ToDisplayString() == "nft -j list table arp lvsdirect");
        Assert.Contains(output, o => o.BaseObject is LvsVip v && v.Address.ToString() == "192.0.2.11");
    }

    [Fact]
    public void AFakeHostWithoutNft_IsReadThroughArptablesAlone_ThoughThisMachineHasNft()
    {
        var runner = FakeRunner.Host().Without("nft");
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke("Get-ArpSuppression");

        Assert.Empty(errors);
        Assert.DoesNotContain(runner.Commands, c => c.Program == "nft");
        Assert.Contains(runner.Commands, c => c.ToDisplayString() == "arptables -L -n");
    }

    // The fake host has the managed VIP 203.0.113.5 (address and both rules), so every boot block brings it up.
    private const string VipSave =
        "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.5\n-A OUTPUT -j mangle -s 203.0.113.5 --mangle-ip-s 192.0.2.11\n";

    private const string VipAddress = ",{\"family\":\"inet\",\"local\":\"203.0.113.5\",\"prefixlen\":32,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0\"}";

    [Theory]
    [InlineData("Set-LvsRealServer -VirtualIP 203.0.113.5 -Persist -PersistTarget RcLocal -RcLocalPath '{0}/rc.local' -ArpRulesPath '{0}/arptables'", true)]
    [InlineData("Set-LvsRealServer -VirtualIP 203.0.113.5 -Persist -PersistTarget RcLocal -RcLocalPath '{0}/rc.local' -ArpRulesPath '{0}/arptables'", false)]
    [InlineData("Export-RcLocal -Path '{0}/rc.local'", true)]
    [InlineData("Export-RcLocal -Path '{0}/rc.local'", false)]
    public void TheBootBlock_ReadsRedirectRules_ExactlyWhenTheFakeHostHasIptables_ThoughThisMachineHasIt(string script, bool hasIptables)
    {
        var rule = RedirectSyntax.RuleLine(IPAddress.Parse("203.0.113.5"), RedirectProtocol.Tcp, 8080);
        var runner = FakeRunner.Host(Listing.FromSaveInOwnChains(VipSave), VipAddress).On(RedirectSyntax.ListCommand.ToDisplayString(), "-P PREROUTING ACCEPT\n" + rule + "\n");
        if (!hasIptables)
        {
            runner.Without("iptables");
        }

        var folder = Directory.CreateTempSubdirectory("lvsdirect-locate-");
        try
        {
            using var host = new CmdletHost(runner, managed: ["203.0.113.5"]);

            var (_, errors, _) = host.Invoke(string.Format(System.Globalization.CultureInfo.InvariantCulture, script, folder.FullName));

            Assert.Empty(errors);
            var block = File.ReadAllText(Path.Combine(folder.FullName, "rc.local"));
            Assert.Equal(hasIptables, runner.Commands.Any(c => c.ToDisplayString() == RedirectSyntax.ListCommand.ToDisplayString()));
            Assert.Contains("203.0.113.5/32 dev eth0", block, StringComparison.Ordinal);
            Assert.Equal(hasIptables, block.Contains("--dport 8080", StringComparison.Ordinal));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void TheSystemdUnit_NamesTheProgramsWhereTheFakeHostHasThem_AndTheUsualPlaceForOneItLacks()
    {
        var runner = FakeRunner.Host(Listing.FromSaveInOwnChains(VipSave), VipAddress).Without("iptables");
        var folder = Directory.CreateTempSubdirectory("lvsdirect-locate-");
        try
        {
            using var host = new CmdletHost(runner, managed: ["203.0.113.5"]);
            var unit = Path.Combine(folder.FullName, "lvsdirect.service");

            var (_, errors, _) = host.Invoke($"[pscustomobject]@{{ VirtualIP = '203.0.113.5'; Port = 8080; Protocol = 'Tcp' }}, (Get-LvsVip) | Export-RcLocal -Target SystemdUnit -Path '{unit}'");

            Assert.Empty(errors);
            var execs = File.ReadAllLines(unit).Where(l => l.StartsWith("ExecStart=", StringComparison.Ordinal)).ToList();
            Assert.Contains("ExecStart=/lvsdirect-tests/fake/bin/ip addr replace 203.0.113.5/32 dev eth0", execs);
            Assert.Contains(execs, l => l.StartsWith("ExecStart=/usr/sbin/iptables ", StringComparison.Ordinal) && l.Contains("--dport 8080", StringComparison.Ordinal));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void WithoutAFake_TheModuleStartsNoRealProgram_AndLooksNoneUp()
    {
        using (new CmdletHost(FakeRunner.Host()))
        {
        }

        var runner = LvsCmdlet.RunnerFactory();

        Assert.Same(NoRealPrograms.Instance, runner);
        Assert.Throws<InvalidOperationException>(() => runner.Run(ToolCommand.Create("arptables", "-L", "-n")));
        Assert.Throws<InvalidOperationException>(() => runner.Locate("arptables"));
    }
}
