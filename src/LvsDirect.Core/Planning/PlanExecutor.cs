using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Planning;

/// <summary>What to do with one step of a plan.</summary>
public enum StepDecision
{
    Run,
    Preview,
    Stop,
}

/// <summary>
/// Runs a plan's steps in order. A step that has started is never interrupted (a half-applied batch is the
/// inconsistent state Ctrl+C must not cause); cancellation is honoured between steps, where every prefix of
/// the plan is safe because of the planner's ordering.
/// </summary>
public sealed class PlanExecutor
{
    private readonly IProcessRunner _runner;

    public PlanExecutor(IProcessRunner runner)
    {
        _runner = runner;
    }

    /// <summary>
    /// Returns the number of steps run. A step answered <see cref="StepDecision.Preview"/> is not run and
    /// the rest are still offered (so -WhatIf lists them all); one answered <see cref="StepDecision.Stop"/>
    /// ends the plan, because a later step may rely on it (no VIP without its suppression).
    /// </summary>
    public int Execute(Plan plan, Func<PlanStep, StepDecision> decide, CancellationToken cancellationToken)
    {
        var done = 0;
        foreach (var step in plan.Steps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var decision = decide(step);
            if (decision == StepDecision.Stop)
            {
                break;
            }

            if (decision == StepDecision.Run)
            {
                _runner.RunChecked(step.Command, CancellationToken.None);
                done++;
            }
        }

        return done;
    }
}
