using LvsDirect.Core.Tools;
using Xunit;

namespace LvsDirect.Tests.Tools;

/// <summary>LvsDirect's own threads for a command's blocking jobs: every job gets a thread at once, results and failures come back.</summary>
public sealed class WorkersTests
{
    [Fact]
    public void JobsThatWaitForEachOther_AllRunAtOnce_EachOnAThreadOfItsOwn()
    {
        // Each job waits until all have started: with fewer threads than jobs this would time out.
        const int count = 12;
        using var all = new CountdownEvent(count);
        var jobs = Enumerable.Range(0, count).Select(i => Workers.Start(() =>
        {
            all.Signal();
            return all.Wait(TimeSpan.FromSeconds(10)) ? i : -1;
        })).ToList();

        Assert.Equal(Enumerable.Range(0, count), jobs.Select(j => j.Result()));
        Assert.True(Workers.Threads >= count);
    }

    [Fact]
    public void AJobThatThrows_ThrowsFromResult_WithItsOwnStack_AndFailedSaysSoWithoutThrowing()
    {
        var job = Workers.Start<int>(() => throw new InvalidOperationException("from the worker"));

        Assert.True(job.Failed());
        var ex = Assert.Throws<InvalidOperationException>(() => job.Result());
        Assert.Equal("from the worker", ex.Message);
        Assert.Contains(nameof(AJobThatThrows_ThrowsFromResult_WithItsOwnStack_AndFailedSaysSoWithoutThrowing), ex.StackTrace);
    }

    [Fact]
    public void AThreadIsKeptForTheNextJob()
    {
        Workers.Start(() => 0).Result();
        var before = Workers.Threads;

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(i, Workers.Start(() => i).Result());
        }

        // Other tests may start jobs meanwhile; twenty jobs one after the other need no thread of their own.
        Assert.True(Workers.Threads - before < 20, $"{Workers.Threads - before} threads for 20 jobs in a row");
    }

    [Fact]
    public void Prestart_StartsTheThreadsAheadOfTheJobs()
    {
        var target = Workers.Threads + 5;

        Workers.Prestart(target);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Workers.Threads < target && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        Assert.True(Workers.Threads >= target, $"{Workers.Threads} threads, not {target}");
    }
}
