using LvsDirect.Core.Errors;
using LvsDirect.Core.Tools;
using Xunit;

namespace LvsDirect.Tests.Tools;

/// <summary>The runner against real programs (sh, which every host has): whole outputs, no deadlock, timeouts.</summary>
public sealed class ProcessRunnerTests
{
    [Fact]
    public void BigInput_BigOutput_AndBigErrors_AtOnce_AllArriveWhole()
    {
        var input = string.Concat(Enumerable.Range(0, 40_000).Select(i => $"line {i}\n"));

        // More than a pipe holds on each stream: the program blocks unless all three are served together.
        var r = new ProcessRunner().Run(new ToolCommand("sh", ["-c", "head -c 300000 /dev/zero | tr '\\0' e >&2; cat; exit 3"], input));

        Assert.Equal(3, r.ExitCode);
        Assert.Equal(input, r.StandardOutput);
        Assert.Equal(300_000, r.StandardError.Length);
        Assert.All(r.StandardError, c => Assert.Equal('e', c));
    }

    [Fact]
    public void ProgramsRunSideBySide_EachGetsItsOwnOutput()
    {
        var runner = new ProcessRunner();
        var results = new string[12];

        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i =>
            results[i] = runner.Run(new ToolCommand("sh", ["-c", $"sleep 0.0{i % 5}; echo out {i}; echo err {i} >&2"])).StandardOutput);

        Assert.Equal(Enumerable.Range(0, results.Length).Select(i => $"out {i}\n"), results);
    }

    [Fact]
    public void AProgramThatDoesNotFinish_IsStoppedAtTheTimeout()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();

        var ex = Assert.Throws<LvsException>(() => new ProcessRunner(TimeSpan.FromMilliseconds(300)).Run(new ToolCommand("sh", ["-c", "exec sleep 30"])));

        Assert.Equal(LvsErrorKind.CommandFailed, ex.Kind);
        Assert.Contains("did not finish", ex.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"took {started.Elapsed}");
    }
}
