using System.Diagnostics;
using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Planning;
using Xunit;

namespace LvsDirect.Tests.Agentless;

/// <summary>
/// The arptables plan streamed through the real agentless script, run by sh inside a network namespace of
/// its own (so the machine's rules are never touched), and the kernel's rules read back with arptables.
/// </summary>
public sealed class AgentlessArptablesTests : IDisposable
{
    private readonly string _namespace = $"lvt{Guid.NewGuid():N}"[..11];
    private readonly string _dir = Directory.CreateTempSubdirectory("lvsdirect-agentless-arp-").FullName;

    public AgentlessArptablesTests()
    {
        Run("ip", "netns", "add", _namespace);
    }

    public void Dispose()
    {
        Run("ip", "netns", "delete", _namespace);
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void TheChainPlan_RunsThroughTheScript_AndTheRemovalPlanLeavesNoChainBehind()
    {
        Run("ip", "netns", "exec", _namespace, "arptables", "-A", "INPUT", "-j", "ACCEPT");
        var vips = new[] { "203.0.113.1", "203.0.113.2", "203.0.113.3" }.Select(IPAddress.Parse).ToList();
        var add = new DesiredChange();
        add.EnsureSuppression.AddRange(vips.Select(v => new SuppressionRequest(v, IPAddress.Parse("192.0.2.11"))));

        var first = Stream(Planner.Create(Read(), add));

        Assert.True(first.Completed, first.Failed?.Output.StandardError);
        var listing = Run("ip", "netns", "exec", _namespace, "arptables", "-L", "-n");
        Assert.StartsWith("Chain INPUT (policy ACCEPT)\n-j LVSDIRECT-IN\n-j ACCEPT\n", listing);
        Assert.Equal(3, listing.Split('\n').Count(l => l.StartsWith("-j DROP -d 203.0.113.")));
        Assert.Equal(3, listing.Split('\n').Count(l => l.StartsWith("-j mangle -s 203.0.113.") && l.EndsWith("--mangle-ip-s 192.0.2.11")));

        var remove = new DesiredChange();
        remove.RemoveSuppression.AddRange(vips);
        var second = Stream(Planner.Create(Read(), remove));

        Assert.True(second.Completed, second.Failed?.Output.StandardError);
        Assert.Equal("Chain INPUT (policy ACCEPT)\n-j ACCEPT\n\nChain OUTPUT (policy ACCEPT)\n", Run("ip", "netns", "exec", _namespace, "arptables", "-L", "-n"));
    }

    private AgentlessRun Stream(Plan plan)
    {
        Assert.All(plan.Steps, s => Assert.Contains(s.Command.Program, AgentlessScript.AllowedPrograms));
        var channel = new AgentlessChannel(_ =>
        {
            var psi = new ProcessStartInfo("ip");
            foreach (var a in new[] { "netns", "exec", _namespace, "/bin/sh", "-c", AgentlessScript.Text })
            {
                psi.ArgumentList.Add(a);
            }

            return psi;
        }) { LockDirectory = _dir };
        return channel.Run(new SshTarget("rs1.example"), [], _ => new RemoteBatch
        {
            Operations = plan.Steps.Select(s => (RemoteOperation)new RemoteCommandOperation(s.Command)).ToList(),
        });
    }

    private HostState Read()
    {
        var rules = ArptablesRuleSet.Parse(ArptablesListing.ToSaveText(Run("ip", "netns", "exec", _namespace, "arptables", "-L", "-n")));
        // The real IP the plans name must be the host's own address on the facing interface, or the planner refuses them.
        var eth0 = new NetInterface("eth0", 2, true, "UP", "02:00:00:00:00:11",
            [new InterfaceAddress("eth0", IPAddress.Parse("192.0.2.11"), 24, "eth0", IPAddress.Parse("192.0.2.255"), "global", false)]);
        return new HostState([eth0], [], rules, new ArptablesDialect(ArptablesFlavor.Nft));
    }

    private static string Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)}: {error}");
        return output;
    }
}
