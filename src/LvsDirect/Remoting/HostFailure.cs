using System.Management.Automation;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;

namespace LvsDirect.Remoting;

/// <summary>
/// Why one host of a pool failed: the one mapping from what a transport saw (an exception on a worker, an error
/// record a remote cmdlet wrote, the ErrorId of a host's result) to an id, a category and the non-terminating
/// ErrorRecord, so the same failure has the same id and category over PowerShell remoting and -Transport Ssh.
/// A failure that carries an LvsDirect id keeps it; one that could not even open a session is classified by what
/// ssh said (HostKeyUnknown, AuthenticationFailed, else HostUnreachable); anything else is RemoteFailed.
/// </summary>
internal sealed record HostFailure(string ComputerName, LvsErrorKind Kind, string Message)
{
    public string ErrorId => Kind.ToString();

    public ErrorCategory Category => LvsCmdlet.CategoryFor(Kind);

    /// <summary>The error written for the host (besides its result object): an LvsException naming the host, its id and category.</summary>
    public ErrorRecord ToErrorRecord(Exception? cause = null) =>
        new(new LvsException(Kind, $"[{ComputerName}] {Message}", ComputerName, cause), ErrorId, Category, ComputerName);

    /// <summary>What ended a host's work on this side: an agentless session, a worker, a session that would not open.</summary>
    public static HostFailure FromException(string computerName, Exception error, bool connected = true) => error switch
    {
        LvsException lvs => new(computerName, lvs.Kind, lvs.Message),
        IContainsErrorRecord { ErrorRecord: { } record } when connected => FromRemoteError(computerName, record),
        _ when !connected => NotConnected(computerName, error),
        _ => new(computerName, LvsErrorKind.RemoteFailed, error.Message),
    };

    /// <summary>An error a cmdlet wrote on the host (remoting): its LvsDirect id when it has one.</summary>
    public static HostFailure FromRemoteError(string computerName, ErrorRecord error) =>
        FromId(computerName, error.FullyQualifiedErrorId.Split(',')[0], error.Exception?.Message ?? error.ToString());

    /// <summary>A host's result that says it failed, by its ErrorId text (an id this build does not know is RemoteFailed).</summary>
    public static HostFailure FromId(string computerName, string? errorId, string? message) =>
        new(computerName, errorId is not null && Enum.GetNames<LvsErrorKind>().Contains(errorId) ? Enum.Parse<LvsErrorKind>(errorId) : LvsErrorKind.RemoteFailed, message ?? "failed");

    /// <summary>
    /// A PowerShell remoting run: no session (the failure as ssh described it), a terminating error there, or the
    /// first error the cmdlet wrote there; null when nothing failed.
    /// </summary>
    public static HostFailure? FromResult(HostRunResult result)
    {
        if (result.Failure is { } failure)
        {
            return FromException(result.ComputerName, failure, result.Connected);
        }

        return result.Errors.FirstOrDefault() is { } error ? FromRemoteError(result.ComputerName, error) : null;
    }

    /// <summary>
    /// No session could be opened. ssh's own words say whether it was the host key or the login, as for the
    /// agentless transport; whatever else kept the session from opening, the host was not reached.
    /// </summary>
    private static HostFailure NotConnected(string computerName, Exception error)
    {
        LvsErrorKind kind;
        try
        {
            kind = AgentlessChannel.ConnectionError(new SshTarget(computerName), error.Message).Kind;
        }
        catch (LvsException)
        {
            // A session's computer name that ssh would not take as a host name: nothing to classify by.
            kind = LvsErrorKind.RemoteFailed;
        }

        if (kind == LvsErrorKind.RemoteFailed)
        {
            kind = LvsErrorKind.HostUnreachable;
        }

        return new(computerName, kind, error.Message);
    }
}
