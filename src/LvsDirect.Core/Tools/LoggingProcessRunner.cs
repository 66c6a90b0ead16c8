using System.Collections.Concurrent;

namespace LvsDirect.Core.Tools;

/// <summary>
/// Reports every finished command (line, exit code, time) to the caller, for -Verbose. The callback runs only on
/// the thread that created the runner (PowerShell's pipeline thread); commands finished on other threads are
/// queued and reported at the next <see cref="Flush"/> or command on the owning thread.
/// </summary>
public sealed class LoggingProcessRunner : IProcessRunner
{
    private readonly IProcessRunner _inner;
    private readonly Action<ToolResult> _log;
    private readonly int _ownerThread = Environment.CurrentManagedThreadId;
    private readonly ConcurrentQueue<ToolResult> _pending = new();

    public LoggingProcessRunner(IProcessRunner inner, Action<ToolResult> log)
    {
        _inner = inner;
        _log = log;
    }

    public ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default)
    {
        var result = _inner.Run(command, cancellationToken);
        _pending.Enqueue(result);
        Flush();
        return result;
    }

    public string? Locate(string program) => _inner.Locate(program);

    public bool RunsSideBySide => _inner.RunsSideBySide;

    public void Flush()
    {
        if (Environment.CurrentManagedThreadId != _ownerThread)
        {
            return;
        }

        while (_pending.TryDequeue(out var result))
        {
            _log(result);
        }
    }
}
