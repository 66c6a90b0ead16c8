using System.Diagnostics;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Tools;

/// <summary>
/// Starts programs with an argument vector (never a shell), with LC_ALL=C so their output parses the same
/// everywhere, a timeout, and standard input written from memory. Cancellation kills the child; callers that
/// must not interrupt a change (see PlanExecutor) pass <see cref="CancellationToken.None"/>.
/// </summary>
public sealed class ProcessRunner : IProcessRunner
{
    public static readonly ProcessRunner Default = new();

    public ProcessRunner(TimeSpan? timeout = null)
    {
        Timeout = timeout ?? TimeSpan.FromSeconds(120);
    }

    public TimeSpan Timeout { get; }

    public ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default)
    {
        var path = ToolLocator.Resolve(command.Program);
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in command.Arguments)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["LC_ALL"] = "C";
        psi.Environment["LANG"] = "C";

        var sw = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new LvsException(LvsErrorKind.ProgramNotFound, $"Could not start '{path}': {ex.Message}", command.Program, ex);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (command.StandardInput is not null)
            {
                process.StandardInput.Write(command.StandardInput);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program exited without reading all of its input; its exit code and stderr say why.
        }

        using (cancellationToken.Register(() => TryKill(process)))
        {
            if (!process.WaitForExit((int)Timeout.TotalMilliseconds))
            {
                TryKill(process);
                process.WaitForExit();
                throw new LvsException(LvsErrorKind.CommandFailed,
                    $"'{command.ToDisplayString()}' did not finish within {Timeout.TotalSeconds:0} s and was stopped.", command.Program);
            }

            process.WaitForExit();
        }

        cancellationToken.ThrowIfCancellationRequested();
        return new ToolResult(command, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult(), sw.Elapsed);
    }

    private static void TryKill(Process p)
    {
        try
        {
            p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
