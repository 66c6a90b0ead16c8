using LvsDirect.Core.Agentless;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Diagnostics.Checks;
using Xunit;

namespace LvsDirect.Tests.Diagnostics;

public class RealServerReadsTests
{
    [Fact]
    public void EveryReadACheckDeclares_IsMadeOnBothTransports()
    {
        var reads = RealServerDiagnosis.ReadsFor(withServices: true);

        Assert.All(RealServerDiagnosis.Checks, c => Assert.Equal(c.Reads, c.Reads & reads));
        Assert.All(Enum.GetValues<HostReads>().Where(r => r is not (HostReads.None or HostReads.LiveSuppression)), r => Assert.True(reads.HasFlag(r), $"{r} is read"));
        // Every command is one the agentless script runs: in its state dump, or as a declared read it accepts.
        Assert.All(RealServerReads.Commands, c =>
        {
            Assert.Contains(c.Command.Program, AgentlessScript.ReadPrograms);
            if (!RealServerReads.StateDumpReads.Contains(c.Name))
            {
                Assert.StartsWith($"RUN {c.Name} {c.Command.Arguments.Count}\n{c.Command.Program}\n", AgentlessChannel.RenderRead(c));
            }
        });
        Assert.All(RealServerDiagnosis.Checks.Where(c => c.Reads.HasFlag(HostReads.Listeners)), c => Assert.Equal(CheckNames.Listener, c.Name));
        Assert.False(RealServerDiagnosis.ReadsFor(withServices: false).HasFlag(HostReads.Listeners));
    }

    [Fact]
    public void TheStateDumpsReads_AreTheSameCommandsTheLocalProbeRuns()
    {
        var ip = RealServerReads.Commands.Single(c => c.Name == "ip").Command;
        var list = RealServerReads.Commands.Single(c => c.Name == "arplist").Command;

        Assert.Contains($"printf \"{ip.StandardInput!.Replace("\n", "\\n", StringComparison.Ordinal)}\" | ip {string.Join(' ', ip.Arguments)} > \"$t/o\"", AgentlessScript.Text);
        Assert.Contains($"arptables {string.Join(' ', list.Arguments)} > \"$t/o\"", AgentlessScript.Text);
        Assert.Contains("arptables -V > \"$t/o\"", AgentlessScript.Text);
    }

    [Fact]
    public void TheBootFiles_AreTheGivenOnes_OrTheDefaultPlaces()
    {
        Assert.Equal(
            ["/etc/rc.d", "/etc/rc.d/rc.local", "/etc/rc.local", "/etc/sysconfig/arptables", "/etc/systemd/system/lvsdirect.service", "/etc/lvsdirect/arp.nft", "/etc/nftables.conf", "/etc/sysconfig/nftables.conf"],
            RealServerReads.Files(new DiagnosisPaths(), HostReads.BootFiles));
        Assert.Equal(
            ["/srv/rc.local", "/srv/arptables", "/srv/unit.service", "/srv/arp.nft", "/srv/nftables.conf"],
            RealServerReads.Files(new DiagnosisPaths { RcLocalPath = "/srv/rc.local", SavedRulesPath = "/srv/arptables", SystemdUnitPath = "/srv/unit.service", NftFilePath = "/srv/arp.nft", NftConfigPaths = ["/srv/nftables.conf"] }, HostReads.BootFiles));
        Assert.Empty(RealServerReads.Files(new DiagnosisPaths(), HostReads.Addresses));
    }
}
