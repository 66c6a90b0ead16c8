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

    [Fact]
    public void AProgramThatExitsWithoutReadingItsInput_GivesItsExitCodeAndErrors()
    {
        // Far more than a pipe holds: the write fails once the program is gone, and that is no error of the runner's.
        var input = new string('x', 1_000_000);

        var r = new ProcessRunner().Run(new ToolCommand("sh", ["-c", "echo refused >&2; exit 5"], input));

        Assert.Equal(5, r.ExitCode);
        Assert.Equal("refused\n", r.StandardError);
    }

    [Fact]
    public void InputAndOutput_AreUtf8_AndAProgramWithoutInputReadsItsEnd()
    {
        var text = "grüße 203.0.113.7 – ✓\n";

        var echoed = new ProcessRunner().Run(new ToolCommand("sh", ["-c", "cat"], text));
        var empty = new ProcessRunner().Run(new ToolCommand("sh", ["-c", "cat; echo done"]));

        Assert.Equal(text, echoed.StandardOutput);
        Assert.Equal("done\n", empty.StandardOutput);
    }

    [Fact]
    public void TheProgramSeesLcAllC_AndNoPipeOfAnotherProgram()
    {
        var runner = new ProcessRunner();
        var command = new ToolCommand("sh", ["-c", "echo $LC_ALL; ls /proc/self/fd | sort -n | tr '\\n' ' '"]);
        // What a program has open when it runs alone (the test host may leave descriptors of its own open to children).
        var alone = runner.Run(command).StandardOutput;

        // Eight at once: none has a descriptor more, such as another one's pipe, which would hold that one's output
        // open until this one exits.
        var results = new string[8];
        Parallel.For(0, results.Length, i => results[i] = runner.Run(command).StandardOutput);

        Assert.StartsWith("C\n0 1 2 ", alone, StringComparison.Ordinal);
        Assert.All(results, r => Assert.Equal(alone, r));
    }

    [Fact]
    public void Prepare_DrainsAPipeOfItsOwn_TheWayAProgramsOutputIsDrained()
    {
        Assert.Equal("warm-up\n", ProcessRunner.Prepare());
        Assert.Equal("warm-up\n", ProcessRunner.Prepare());
    }
}
