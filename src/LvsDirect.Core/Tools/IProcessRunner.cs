namespace LvsDirect.Core.Tools;

/// <summary>Runs native commands. The only way Core starts a process, so tests can substitute it.</summary>
public interface IProcessRunner
{
    /// <summary>
    /// Runs <paramref name="command"/> and returns its result whatever the exit code; callers decide what a
    /// failure means (see <see cref="ProcessRunnerExtensions.RunChecked"/>). Throws
    /// <see cref="Errors.LvsException"/> (ProgramNotFound) when the program is not installed.
    /// </summary>
    ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default);

    /// <summary>
    /// Where the program this runner would start is, or null when it has none: asked instead of the machine,
    /// so a runner that stands in for a host (a test's fake) also answers which programs that host has.
    /// </summary>
    string? Locate(string program) => ToolLocator.TryResolve(program);

    /// <summary>
    /// True when <see cref="Run"/> may be called from several threads at once, so that a plan's independent lanes
    /// (see <see cref="Planning.StepLane"/>) run side by side: the real runner. A runner that stands in for a host
    /// (a test's fake) keeps the default, and what it records keeps the plan's order.
    /// </summary>
    bool RunsSideBySide => false;
}

public static class ProcessRunnerExtensions
{
    /// <summary>Runs and throws CommandFailed, carrying stderr, on a non-zero exit.</summary>
    public static ToolResult RunChecked(this IProcessRunner runner, ToolCommand command, CancellationToken cancellationToken = default)
    {
        var result = runner.Run(command, cancellationToken);
        if (!result.Succeeded)
        {
            throw CommandFailed(result);
        }

        return result;
    }

    public static Errors.LvsException CommandFailed(ToolResult result)
    {
        var stderr = result.StandardError.Trim();
        if (stderr.Length == 0)
        {
            stderr = result.StandardOutput.Trim();
        }

        var line = result.Command.Program + " " + string.Join(' ', result.Command.Arguments.Select(ToolCommand.Quote));
        return new Errors.LvsException(
            Errors.LvsErrorKind.CommandFailed,
            $"'{line}' failed with exit code {result.ExitCode}: {stderr}",
            line);
    }
}
