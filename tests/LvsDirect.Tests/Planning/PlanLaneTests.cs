using System.Collections.Concurrent;
using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;
using LvsDirect.Core.Tools;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Planning;

/// <summary>
/// LvsDirect's two ARP chains are made and filled side by side on arptables-nft (each call one nftables
/// transaction, retried by arptables-nft when the rule set moved under it): the planner marks the lanes, the
/// executor runs them at once where the runner allows it, and nothing after them starts before both are done.
/// </summary>
public class PlanLaneTests
{
    private static readonly IPAddress Rip = IPAddress.Parse("192.0.2.11");

    private static string Line(PlanStep s) => s.Command.Program + " " + string.Join(' ', s.Command.Arguments);

    private static Plan NewVips(FakeRunner host, params string[] vips)
    {
        var d = new DesiredChange();
        foreach (var v in vips)
        {
            var a = IPAddress.Parse(v);
            d.EnsureSuppression.Add(new SuppressionRequest(a, Rip));
            d.EnsureVips.Add(new VipRequest(a, 32, "eth0"));
        }

        return Planner.Create(new HostInspector(host).Read(includeArpRules: true), d);
    }

    [Fact]
    public void OnArptablesNft_EachChainIsALane_OfOneGroup_AndTheAddressesAreInNone()
    {
        var plan = NewVips(FakeRunner.Host(), "203.0.113.100", "203.0.113.101");

        var arp = plan.Steps.Where(s => s.Kind == StepKind.ChangeArpRules).ToList();
        Assert.Equal(6, arp.Count);
        Assert.All(arp, s => Assert.NotNull(s.Lane));
        Assert.Single(arp.Select(s => s.Lane!.Group).Distinct());
        Assert.Equal(
            ["arptables -N LVSDIRECT-IN", "arptables -I INPUT 1 -j LVSDIRECT-IN", "arptables -A LVSDIRECT-IN -d 203.0.113.100,203.0.113.101 -j DROP"],
            arp.Where(s => s.Lane!.Name == "LVSDIRECT-IN").Select(Line));
        Assert.Equal(
            ["arptables -N LVSDIRECT-OUT", "arptables -I OUTPUT 1 -j LVSDIRECT-OUT", "arptables -A LVSDIRECT-OUT -s 203.0.113.100,203.0.113.101 -j mangle --mangle-ip-s 192.0.2.11"],
            arp.Where(s => s.Lane!.Name == "LVSDIRECT-OUT").Select(Line));
        Assert.Null(plan.Steps[^1].Lane);
        Assert.Equal(StepKind.AddAddresses, plan.Steps[^1].Kind);
    }

    [Theory]
    [InlineData(ArptablesFlavor.Legacy)]
    [InlineData(ArptablesFlavor.Jf)]
    public void OnFlavorsThatRewriteTheWholeTable_NoStepIsInALane_BecauseTwoWritersWouldUndoEachOther(ArptablesFlavor flavor)
    {
        var read = new HostInspector(FakeRunner.Host()).Read(includeArpRules: true);
        var state = new HostState(read.Interfaces, read.DefaultRoutes, read.ArpRules, new ArptablesDialect(flavor));
        var d = new DesiredChange();
        d.EnsureSuppression.Add(new SuppressionRequest(IPAddress.Parse("203.0.113.100"), Rip));
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("203.0.113.100"), 32, "eth0"));

        var plan = Planner.Create(state, d);

        Assert.Contains(plan.Steps, s => s.Kind == StepKind.ChangeArpRules);
        Assert.All(plan.Steps, s => Assert.Null(s.Lane));
    }

    [Fact]
    public void TwoPlansJoined_KeepTheirGroupsApart()
    {
        var first = NewVips(FakeRunner.Host(), "203.0.113.100");
        var second = NewVips(FakeRunner.Host(), "203.0.113.101");

        var joined = first.Then(second);

        Assert.NotSame(first.Steps[0].Lane!.Group, second.Steps[0].Lane!.Group);
        Assert.Equal(2, joined.Steps.Where(s => s.Lane is not null).Select(s => s.Lane!.Group).Distinct().Count());
    }

    [Fact]
    public void TheLanesRunAtOnce_AndTheAddressesWaitForBoth()
    {
        var runner = new SideBySideRunner();
        // The IN chain's rules may not finish until the OUT chain's rules have started: run one after the other,
        // this step would wait for ever (the runner gives up after 10 s and fails it).
        runner.Hold("arptables -A LVSDIRECT-IN", until: "arptables -A LVSDIRECT-OUT");

        var done = new PlanExecutor(runner).Execute(NewVips(FakeRunner.Host(), "203.0.113.100"), _ => StepDecision.Run, CancellationToken.None);

        Assert.Equal(7, done);
        var ip = runner.Started.IndexOf("ip -batch -");
        Assert.Equal(6, ip);
        Assert.Equal(6, runner.FinishedBefore("ip -batch -"));
        var started = runner.Started;
        int At(string prefix) => started.FindIndex(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(At("arptables -N LVSDIRECT-IN") < At("arptables -I INPUT 1 -j LVSDIRECT-IN"));
        Assert.True(At("arptables -I INPUT 1 -j LVSDIRECT-IN") < At("arptables -A LVSDIRECT-IN"));
        Assert.True(At("arptables -N LVSDIRECT-OUT") < At("arptables -I OUTPUT 1 -j LVSDIRECT-OUT"));
        Assert.True(At("arptables -I OUTPUT 1 -j LVSDIRECT-OUT") < At("arptables -A LVSDIRECT-OUT"));
    }

    [Fact]
    public void ALaneThatFails_StopsTheOtherBeforeItsNextStep_AndNoAddressGoesIn()
    {
        var runner = new SideBySideRunner();
        runner.Fail("arptables -I INPUT 1 -j LVSDIRECT-IN", "arptables: RULE_INSERT failed");
        // The IN lane fails only once the OUT lane is at its second step, which waits until the IN lane has failed,
        // so the OUT lane's third step must not start.
        runner.Hold("arptables -I INPUT 1 -j LVSDIRECT-IN", until: "arptables -I OUTPUT 1 -j LVSDIRECT-OUT");
        runner.Hold("arptables -I OUTPUT 1 -j LVSDIRECT-OUT", until: "arptables -I INPUT 1 -j LVSDIRECT-IN", finished: true);

        var ex = Assert.Throws<LvsException>(() =>
            new PlanExecutor(runner).Execute(NewVips(FakeRunner.Host(), "203.0.113.100"), _ => StepDecision.Run, CancellationToken.None));

        Assert.Equal(LvsErrorKind.CommandFailed, ex.Kind);
        Assert.Contains("RULE_INSERT failed", ex.Message);
        Assert.DoesNotContain("ip -batch -", runner.Started);
        Assert.DoesNotContain(runner.Started, l => l.StartsWith("arptables -A LVSDIRECT-IN", StringComparison.Ordinal));
        Assert.DoesNotContain(runner.Started, l => l.StartsWith("arptables -A LVSDIRECT-OUT", StringComparison.Ordinal));
        Assert.Contains("arptables -I OUTPUT 1 -j LVSDIRECT-OUT", runner.Started);
    }

    [Fact]
    public void ARunnerThatRunsOneAtATime_RunsTheLanesInThePlansOrder()
    {
        var runner = FakeRunner.Host();
        var plan = NewVips(FakeRunner.Host(), "203.0.113.100");
        var before = runner.Commands.Count;

        new PlanExecutor(runner).Execute(plan, _ => StepDecision.Run, CancellationToken.None);

        Assert.Equal(plan.Steps.Select(s => s.Command), runner.Commands.Skip(before));
    }

    [Fact]
    public void ADeclinedStepInAGroup_RunsTheStepsOfferedBeforeIt_AndNothingAfter()
    {
        var runner = new SideBySideRunner();
        var plan = NewVips(FakeRunner.Host(), "203.0.113.100");
        var offered = new List<string>();

        var done = new PlanExecutor(runner).Execute(
            plan,
            s =>
            {
                offered.Add(Line(s));
                return Line(s).StartsWith("arptables -A", StringComparison.Ordinal) ? StepDecision.Stop : StepDecision.Run;
            },
            CancellationToken.None);

        Assert.Equal(4, done);
        Assert.Equal(plan.Steps.Take(5).Select(Line), offered);
        Assert.Equal(plan.Steps.Take(4).Select(Line).Order(), runner.Started.Order());
    }

    [Fact]
    public void WhatIf_OffersEveryStepOfTheGroupInOrder_AndRunsNone()
    {
        var runner = new SideBySideRunner();
        var plan = NewVips(FakeRunner.Host(), "203.0.113.100");
        var offered = new List<string>();

        var done = new PlanExecutor(runner).Execute(plan, s => { offered.Add(Line(s)); return StepDecision.Preview; }, CancellationToken.None);

        Assert.Equal(0, done);
        Assert.Equal(plan.Steps.Select(Line), offered);
        Assert.Empty(runner.Started);
    }

    /// <summary>A runner that may be called from several threads, records what started and finished, and can hold a command back or fail it.</summary>
    private sealed class SideBySideRunner : IProcessRunner
    {
        private readonly ConcurrentDictionary<string, (string Until, bool Finished)> _holds = new();
        private readonly ConcurrentDictionary<string, string> _failures = new();
        private readonly List<string> _started = [];
        private readonly List<string> _finished = [];

        public bool RunsSideBySide => true;

        public List<string> Started
        {
            get
            {
                lock (_started)
                {
                    return [.. _started];
                }
            }
        }

        public void Hold(string prefix, string until, bool finished = false) => _holds[prefix] = (until, finished);

        public void Fail(string prefix, string stderr) => _failures[prefix] = stderr;

        /// <summary>How many commands had finished when <paramref name="prefix"/> started.</summary>
        public int FinishedBefore(string prefix)
        {
            lock (_started)
            {
                return _finishedAtStart.TryGetValue(prefix, out var n) ? n : -1;
            }
        }

        private readonly Dictionary<string, int> _finishedAtStart = [];

        public string? Locate(string program) => "/lvsdirect-tests/fake/bin/" + program;

        public ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default)
        {
            var line = command.Program + " " + string.Join(' ', command.Arguments);
            lock (_started)
            {
                _started.Add(line);
                _finishedAtStart[line] = _finished.Count;
                Monitor.PulseAll(_started);
            }

            foreach (var (prefix, hold) in _holds)
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    lock (_started)
                    {
                        var deadline = DateTime.UtcNow.AddSeconds(10);
                        while (!(hold.Finished ? _finished : _started).Any(l => l.StartsWith(hold.Until, StringComparison.Ordinal)))
                        {
                            var left = deadline - DateTime.UtcNow;
                            Assert.True(left > TimeSpan.Zero, $"'{line}' waited in vain for '{hold.Until}'");
                            Monitor.Wait(_started, left);
                        }
                    }

                    if (hold.Finished)
                    {
                        // The lane that ran it has yet to see its result and raise the failure: give it the time.
                        Thread.Sleep(300);
                    }
                }
            }

            var failure = _failures.FirstOrDefault(f => line.StartsWith(f.Key, StringComparison.Ordinal));
            lock (_started)
            {
                _finished.Add(line);
                Monitor.PulseAll(_started);
            }

            return new ToolResult(command, failure.Key is null ? 0 : 4, string.Empty, failure.Value ?? string.Empty, TimeSpan.FromMilliseconds(1));
        }
    }

    /// <summary>An nft host where LvsDirect suppresses two VIPs in its own chains, a foreign rule beside them in INPUT.</summary>
    private const string TwoOwnVips =
        "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:LVSDIRECT-IN -\n:LVSDIRECT-OUT -\n"
        + "-A INPUT -j LVSDIRECT-IN\n-A INPUT -j ACCEPT -i eth0 -s 192.0.2.99\n-A OUTPUT -j LVSDIRECT-OUT\n"
        + "-A LVSDIRECT-IN -j DROP -d 203.0.113.100\n-A LVSDIRECT-IN -j DROP -d 203.0.113.101\n"
        + "-A LVSDIRECT-OUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n-A LVSDIRECT-OUT -j mangle -s 203.0.113.101 --mangle-ip-s 192.0.2.11\n";

    private static Plan RemoveVips(string save, params string[] vips)
    {
        var d = new DesiredChange();
        d.RemoveSuppression.AddRange(vips.Select(IPAddress.Parse));
        return Planner.Create(new HostInspector(FakeRunner.Host(Listing.FromSave(save))).Read(includeArpRules: true), d);
    }

    [Fact]
    public void RemovingTheLastVips_EmptiesAndRemovesEachChainInItsOwnLane()
    {
        var plan = RemoveVips(TwoOwnVips, "203.0.113.100", "203.0.113.101");

        Assert.All(plan.Steps, s => Assert.NotNull(s.Lane));
        Assert.Single(plan.Steps.Select(s => s.Lane!.Group).Distinct());
        Assert.Equal(
            ["arptables -D LVSDIRECT-IN -d 203.0.113.100,203.0.113.101 -j DROP", "arptables -D INPUT -j LVSDIRECT-IN", "arptables -X LVSDIRECT-IN"],
            plan.Steps.Where(s => s.Lane!.Name == "LVSDIRECT-IN").Select(Line));
        Assert.Equal(
            ["arptables -D LVSDIRECT-OUT -s 203.0.113.100,203.0.113.101 -j mangle --mangle-ip-s 192.0.2.11", "arptables -D OUTPUT -j LVSDIRECT-OUT", "arptables -X LVSDIRECT-OUT"],
            plan.Steps.Where(s => s.Lane!.Name == "LVSDIRECT-OUT").Select(Line));
    }

    [Fact]
    public void RemovingSomeVips_RemovesTheirRulesSideBySide_AndKeepsTheChains()
    {
        var plan = RemoveVips(TwoOwnVips, "203.0.113.101");

        Assert.Equal(
            ["arptables -D LVSDIRECT-IN -d 203.0.113.101 -j DROP", "arptables -D LVSDIRECT-OUT -s 203.0.113.101 -j mangle --mangle-ip-s 192.0.2.11"],
            plan.Steps.Select(Line));
        Assert.Equal(["LVSDIRECT-IN", "LVSDIRECT-OUT"], plan.Steps.Select(s => s.Lane!.Name));
    }

    [Fact]
    public void AReplacedMangleRule_GoesInTheOutputLane_AfterItsSuccessor()
    {
        var d = new DesiredChange();
        var vip = IPAddress.Parse("203.0.113.100");
        d.EnsureSuppression.Add(new SuppressionRequest(vip, IPAddress.Parse("192.0.2.12")));
        d.EnsureVips.Add(new VipRequest(vip, 32, "eth0"));
        var addr = ",{\"family\":\"inet\",\"local\":\"192.0.2.12\",\"prefixlen\":24,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0\"}";
        var plan = Planner.Create(new HostInspector(FakeRunner.Host(Listing.FromSave(TwoOwnVips), addr)).Read(includeArpRules: true), d);

        var output = plan.Steps.Where(s => s.Lane?.Name == "LVSDIRECT-OUT").Select(Line).ToList();
        Assert.Equal(
            ["arptables -A LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.12", "arptables -D LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11"],
            output);
        Assert.DoesNotContain(plan.Steps, s => s.Lane?.Name == "LVSDIRECT-IN");
    }
}
