using System.Management.Automation;
using LvsDirect.Core.Tools;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Cmdlets;

/// <summary>
/// The cmdlets with a runner that runs the ARP chains' lanes side by side, as the real one does: the process lines
/// of the lane run on another thread still reach -Verbose, also when the plan ends with that lane.
/// </summary>
[Collection(CmdletCollection.Name)]
public class SideBySideLaneCmdletTests
{
    [Theory]
    [InlineData("Set-ArpSuppression -VirtualIP 203.0.113.100 -Verbose 4>&1")]
    [InlineData("New-LvsVip -Address 203.0.113.100 -Verbose 4>&1")]
    public void EveryProgramOfBothLanes_IsInTheVerboseLog(string script)
    {
        var fake = FakeRunner.Host();
        using var host = new CmdletHost(new SideBySide(fake));

        var (output, errors, _) = host.Invoke(script);

        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => e.ToString())));
        var logged = output.Select(o => o.BaseObject).OfType<VerboseRecord>().Select(v => v.Message).Where(m => m.Contains(" -> exit ", StringComparison.Ordinal)).ToList();
        foreach (var change in fake.Changes)
        {
            Assert.Contains(logged, l => l.StartsWith(change.ToSummaryString(), StringComparison.Ordinal));
        }

        Assert.Equal(6, fake.Changes.Count(c => c.Program == "arptables"));
    }

    private sealed class SideBySide(FakeRunner inner) : IProcessRunner
    {
        public bool RunsSideBySide => true;

        public string? Locate(string program) => inner.Locate(program);

        public ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default) => inner.Run(command, cancellationToken);
    }
}
