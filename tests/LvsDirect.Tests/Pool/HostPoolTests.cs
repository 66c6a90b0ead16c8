using LvsDirect.Core.Agentless;
using Xunit;

namespace LvsDirect.Tests.Pool;

/// <summary>The one host pool of every transport, when its caller stops reading early.</summary>
public class HostPoolTests
{
    [Fact]
    public void ACallerThatStopsEarly_LetsTheOtherHostsFinishWithoutAnErrorOnTheirThreads()
    {
        using var gate = new ManualResetEventSlim();
        var finished = 0;
        var first = 0;
        // A terminating error on the pipeline thread (or Select-Object -First 1) ends the enumeration while
        // the other hosts are still running; an exception on their threads would end the whole process.
        foreach (var outcome in HostParallel.Run([1, 2, 3], 3, (i, _) =>
                 {
                     if (i != 1)
                     {
                         gate.Wait();
                     }

                     Interlocked.Increment(ref finished);
                     return i;
                 }, CancellationToken.None))
        {
            first = outcome.Result;
            break;
        }

        gate.Set();
        SpinWait.SpinUntil(() => Volatile.Read(ref finished) == 3, TimeSpan.FromSeconds(10));
        // The workers hand their outcomes in right after the work returns.
        Thread.Sleep(200);

        Assert.Equal(1, first);
        Assert.Equal(3, Volatile.Read(ref finished));
    }
}
