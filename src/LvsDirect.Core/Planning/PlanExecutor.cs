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
/// the plan is safe because of the planner's ordering. Steps of one <see cref="StepLane"/> group run lane beside
/// lane when the runner allows it (each lane in order; the step after the group waits for all of them).
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
    /// ends the plan, because a later step may rely on it (no VIP without its suppression). The steps of a lane
    /// group are all offered before the first of them runs.
    /// </summary>
    public int Execute(Plan plan, Func<PlanStep, StepDecision> decide, CancellationToken cancellationToken)
    {
        var steps = plan.Steps;
        var done = 0;
        for (var i = 0; i < steps.Count;)
        {
            var end = GroupEnd(steps, i);
            cancellationToken.ThrowIfCancellationRequested();
            var run = new List<PlanStep>(end - i);
            var stop = false;
            for (var k = i; k < end && !stop; k++)
            {
                var decision = decide(steps[k]);
                stop = decision == StepDecision.Stop;
                if (decision == StepDecision.Run)
                {
                    run.Add(steps[k]);
                }
            }

            done += end - i == 1 || run.Count == 0 ? RunInOrder(run, null) : RunSideBySide(run, cancellationToken);
            if (stop)
            {
                break;
            }

            i = end;
        }

        return done;
    }

    /// <summary>The end of the lane group that starts at <paramref name="start"/>; a step outside any group (or a runner that runs one program at a time) is a group of one.</summary>
    private int GroupEnd(IReadOnlyList<PlanStep> steps, int start)
    {
        var group = steps[start].Lane?.Group;
        var end = start + 1;
        if (group is null || !_runner.RunsSideBySide)
        {
            return end;
        }

        while (end < steps.Count && ReferenceEquals(steps[end].Lane?.Group, group))
        {
            end++;
        }

        return end;
    }

    private int RunInOrder(IEnumerable<PlanStep> steps, Func<bool>? stopped)
    {
        var done = 0;
        foreach (var step in steps)
        {
            if (stopped?.Invoke() == true)
            {
                break;
            }

            _runner.RunChecked(step.Command, CancellationToken.None);
            done++;
        }

        return done;
    }

    /// <summary>
    /// Each lane on its own thread (the first on this one). A lane that fails, or Ctrl+C, stops every lane before
    /// its next step; the running steps finish. Once all have stopped, the failure of the first lane (in plan order) that failed is thrown.
    /// </summary>
    private int RunSideBySide(List<PlanStep> steps, CancellationToken cancellationToken)
    {
        var lanes = new List<List<PlanStep>>();
        foreach (var step in steps)
        {
            var lane = lanes.Find(l => l[0].Lane!.Name == step.Lane!.Name);
            if (lane is null)
            {
                lanes.Add(lane = []);
            }

            lane.Add(step);
        }

        var failures = new Exception?[lanes.Count];
        var counts = new int[lanes.Count];
        var failed = 0;
        bool Stopped() => Volatile.Read(ref failed) != 0 || cancellationToken.IsCancellationRequested;
        void Lane(int index)
        {
            try
            {
                counts[index] = RunInOrder(lanes[index], Stopped);
            }
            catch (Exception ex)
            {
                failures[index] = ex;
                Volatile.Write(ref failed, 1);
            }
        }

        // Job<object>, not Job<bool>: code shared by every reference type is compiled ahead, a value type's is not.
        var others = new List<Job<object?>>();
        for (var l = 1; l < lanes.Count; l++)
        {
            var index = l;
            others.Add(Workers.Start<object?>(() =>
            {
                Lane(index);
                return null;
            }));
        }

        Lane(0);
        foreach (var other in others)
        {
            other.Result();
        }
        var first = Array.FindIndex(failures, f => f is not null);
        if (first >= 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failures[first]!).Throw();
        }

        cancellationToken.ThrowIfCancellationRequested();
        var total = 0;
        foreach (var count in counts)
        {
            total += count;
        }

        return total;
    }
}
