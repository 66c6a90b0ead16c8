namespace LvsDirect.Core.Tools;

/// <summary>Reports every finished command (line, exit code, time) to the caller, for -Verbose.</summary>
public sealed class LoggingProcessRunner : IProcessRunner
{
    private readonly IProcessRunner _inner;
    private readonly Action<ToolResult> _log;

    public LoggingProcessRunner(IProcessRunner inner, Action<ToolResult> log)
    {
        _inner = inner;
        _log = log;
    }

    public ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default)
    {
        var result = _inner.Run(command, cancellationToken);
        _log(result);
        return result;
    }
}
