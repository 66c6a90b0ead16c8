using System.Net;
using LvsDirect.Core.Planning;
using LvsDirect.Core.Tools;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Planning;

public class PlanExecutorTests
{
    private static Plan NewVipPlan() =>
        new(
            [
                new PlanStep(StepKind.ChangeArpRules, "Add ARP suppression rule", "203.0.113.100", ToolCommand.Create("arptables", "-A", "INPUT", "-d", "203.0.113.100", "-j", "DROP")),
                new PlanStep(StepKind.AddAddresses, "Add VIP address", "203.0.113.100/32 dev eth0", new ToolCommand("ip", ["-batch", "-"], "address add 203.0.113.100/32 dev eth0\n")),
            ],
            [],
            []);

    [Fact]
    public void CtrlC_DuringAStep_LetsItFinishAndRunsNothingAfterIt()
    {
        using var cancel = new CancellationTokenSource();
        var runner = new CancellingRunner(cancel);

        Assert.Throws<OperationCanceledException>(() => new PlanExecutor(runner).Execute(NewVipPlan(), _ => StepDecision.Run, cancel.Token));

        Assert.Equal(["arptables"], runner.Completed);
    }

    [Fact]
    public void DeclinedStep_StopsThePlan_SoNoAddressGoesInWithoutItsSuppression()
    {
        var runner = new FakeRunner();

        var done = new PlanExecutor(runner).Execute(NewVipPlan(), s => s.Kind == StepKind.ChangeArpRules ? StepDecision.Stop : StepDecision.Run, CancellationToken.None);

        Assert.Equal(0, done);
        Assert.Empty(runner.Commands);
    }

    [Fact]
    public void WhatIf_OffersEveryStepAndRunsNone()
    {
        var runner = new FakeRunner();
        var offered = new List<StepKind>();

        var done = new PlanExecutor(runner).Execute(NewVipPlan(), s => { offered.Add(s.Kind); return StepDecision.Preview; }, CancellationToken.None);

        Assert.Equal(0, done);
        Assert.Equal([StepKind.ChangeArpRules, StepKind.AddAddresses], offered);
        Assert.Empty(runner.Commands);
    }

    [Fact]
    public void FailedStep_StopsThePlanWithItsStderr()
    {
        var runner = new FakeRunner().On("arptables", string.Empty, 4, "arptables: RULE_APPEND failed");

        var ex = Assert.Throws<Core.Errors.LvsException>(() => new PlanExecutor(runner).Execute(NewVipPlan(), _ => StepDecision.Run, CancellationToken.None));

        Assert.Equal(Core.Errors.LvsErrorKind.CommandFailed, ex.Kind);
        Assert.Contains("RULE_APPEND failed", ex.Message);
        Assert.DoesNotContain(runner.Commands, c => c.Program == "ip");
    }

    /// <summary>Presses Ctrl+C while the first command runs, and checks the executor does not pass that on to it.</summary>
    private sealed class CancellingRunner(CancellationTokenSource cancel) : IProcessRunner
    {
        public List<string> Completed { get; } = [];

        public ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default)
        {
            cancel.Cancel();
            Assert.False(cancellationToken.IsCancellationRequested, "a running step must not be interruptible");
            Completed.Add(command.Program);
            return new ToolResult(command, 0, string.Empty, string.Empty, TimeSpan.Zero);
        }
    }
}
