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

    /// <summary>Each call starts its own process and drains it on its own reader threads.</summary>
    public bool RunsSideBySide => true;

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

        // Both outputs are drained on other threads with blocking reads, so the child never stalls on a full
        // pipe while this thread writes its input and keeps the timeout. Not the streams' async methods: on Linux
        // those run on the socket event engine, whose start-up and generic state machines are JIT-compiled in every
        // fresh process, and the first command of a script would pay for them. Not even the process's own streams'
        // blocking reads and writes: on .NET 9 and later, PipeStream does those through a Socket it wraps around
        // the pipe (and disposes again on close), which loads the same machinery; each pipe is read and written
        // through a FileStream on its descriptor instead, plain read(2) and write(2).
        var stdout = Drain(process.StandardOutput.BaseStream);
        var stderr = Drain(process.StandardError.BaseStream);
        try
        {
            if (command.StandardInput is not null)
            {
                using var input = Raw(process.StandardInput.BaseStream, FileAccess.Write);
                input.Write(Utf8.GetBytes(command.StandardInput));
            }

            // Closing the process's own stream closes the descriptor: the program reads the end of its input.
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
        return new ToolResult(command, process.ExitCode, stdout.Result(), stderr.Result(), sw.Elapsed);
    }

    private static readonly System.Text.UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// The in-memory part of running a program, for the warm-up: the environment a program is given, and an
    /// anonymous pipe written and drained the way a program's pipes are (a FileStream on each descriptor, the reader
    /// on a worker). It starts no program and opens no file.
    /// </summary>
    internal static string Prepare()
    {
        var psi = new ProcessStartInfo("lvsdirect-warm-up");
        psi.Environment["LC_ALL"] = "C";
        using var server = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        using var client = new System.IO.Pipes.AnonymousPipeClientStream(System.IO.Pipes.PipeDirection.In, server.ClientSafePipeHandle);
        var drain = Drain(client);
        using (var write = Raw(server, FileAccess.Write))
        {
            write.Write(Utf8.GetBytes("warm-up\n"));
        }

        // Closing the write end is the end of the reader's input.
        server.Dispose();
        return drain.Result();
    }

    /// <summary>
    /// A FileStream on the descriptor of one of the process's pipes, without owning it: the process's stream keeps
    /// it open until the process is disposed (the input's until it is closed), after the reads and the write end.
    /// </summary>
    private static FileStream Raw(Stream processStream, FileAccess access) =>
        new(new Microsoft.Win32.SafeHandles.SafeFileHandle(((System.IO.Pipes.PipeStream)processStream).SafePipeHandle.DangerousGetHandle(), ownsHandle: false), access, bufferSize: 0);

    /// <summary>
    /// One pipe read to its end on one of <see cref="Workers"/>' threads; the job's result is what was read, once the
    /// program and its children closed the pipe.
    /// </summary>
    private static Job<string> Drain(Stream pipe) => Workers.Start(new StreamReader(Raw(pipe, FileAccess.Read), Utf8).ReadToEnd);

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
