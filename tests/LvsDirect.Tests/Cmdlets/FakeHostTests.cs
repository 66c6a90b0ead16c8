using LvsDirect.Core.Model;
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
