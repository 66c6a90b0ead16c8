using LvsDirect.Core.Agentless;
using Xunit;

namespace LvsDirect.Tests.Agentless;

public class HostParallelTests
{
    [Fact]
    public void EveryHostGivesOneOutcome_AndAFailureStaysWithItsHost()
    {
        var outcomes = HostParallel.Run(["a", "bad", "c"], 8, (h, _) => h == "bad" ? throw new InvalidOperationException("boom") : h.ToUpperInvariant(), CancellationToken.None).ToList();

        Assert.Equal(3, outcomes.Count);
        Assert.Equal("boom", Assert.Single(outcomes, o => o.Item == "bad").Error!.Message);
        Assert.Equal(["A", "C"], outcomes.Where(o => o.Error is null).Select(o => o.Result!).Order());
    }

    [Fact]
    public void NoMoreThanTheThrottleRunAtOnce_AndTheyDoOverlap()
    {
        var running = 0;
        var peak = 0;
        var hosts = Enumerable.Range(0, 12).ToList();
        using var firstThree = new CountdownEvent(3);

        var outcomes = HostParallel.Run(hosts, 3, (h, _) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            if (h < 3)
            {
                // The first three wait for each other: they can only all arrive if they run side by side.
                firstThree.Signal();
                Assert.True(firstThree.Wait(TimeSpan.FromSeconds(10)));
            }

            Thread.Sleep(20);
            Interlocked.Decrement(ref running);
            return h;
        }, CancellationToken.None).ToList();

        // An assertion that fails on a worker thread is that host's outcome, not a failure of this test: read it.
        Assert.All(outcomes, o => Assert.True(o.Error is null, $"host {o.Item}: {o.Error}"));
        Assert.Equal(12, outcomes.Count);
        Assert.Equal(3, peak);
    }

    [Fact]
    public void Cancellation_BeforeAHostStarts_IsThatHostsOutcome()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        var outcome = Assert.Single(HostParallel.Run([1], 1, (h, _) => h, cts.Token));

        Assert.IsType<OperationCanceledException>(outcome.Error);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
