using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Planning;

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

    /// <summary>Returns the number of steps run; stops at the first step <paramref name="shouldRun"/> declines.</summary>
    public int Execute(Plan plan, Func<PlanStep, bool> shouldRun, CancellationToken cancellationToken)
    {
        var done = 0;
        foreach (var step in plan.Steps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!shouldRun(step))
            {
                break;
            }

            _runner.RunChecked(step.Command, CancellationToken.None);
            done++;
        }

        return done;
    }
}
