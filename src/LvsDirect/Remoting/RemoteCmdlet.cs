using System.Management.Automation;
using LvsDirect.Core.Errors;

namespace LvsDirect.Remoting;

/// <summary>
/// The cmdlet side of <see cref="RemoteRunner"/>: runs work on hosts, shows hosts done/total with
/// Write-Progress, relays each host's warnings (and -Verbose lines) prefixed with its name, and hands each
/// result to the caller on the pipeline thread as it arrives.
/// </summary>
internal static class RemoteCmdlet
{
    public static void RunWithProgress(LvsCmdlet cmdlet, RemoteRunner runner, IReadOnlyList<RemoteWork> work, string activity, Action<HostRunResult> onResult, CancellationToken cancellationToken)
    {
        if (work.Count == 0)
        {
            return;
        }

        var progress = new ProgressRecord(Math.Abs(activity.GetHashCode() % 100000), activity, $"0 of {work.Count} hosts done");
        cmdlet.WriteProgress(progress);
        var done = 0;
        foreach (var r in runner.Run(work, cancellationToken))
        {
            done++;
            progress.StatusDescription = $"{done} of {work.Count} hosts done (last: {r.ComputerName})";
            progress.PercentComplete = done * 100 / work.Count;
            cmdlet.WriteProgress(progress);
            foreach (var w in r.Warnings)
            {
                cmdlet.WriteWarning($"[{r.ComputerName}] {w}");
            }

            foreach (var v in r.Verbose)
            {
                cmdlet.WriteVerbose($"[{r.ComputerName}] {v}");
            }

            onResult(r);
        }

        progress.RecordType = ProgressRecordType.Completed;
        cmdlet.WriteProgress(progress);
    }

    /// <summary>
    /// The stable id of a host's failure: HostUnreachable when no session could be opened, the remote error's id
    /// when it is one of LvsDirect's, else RemoteCommandFailed (a PowerShell id from the remote host, such as a
    /// parameter binding error, is not one a script here could rely on; the message still has it).
    /// </summary>
    public static string ErrorIdOf(HostRunResult r, ErrorRecord? remoteError) =>
        r.Failure is not null && !r.Connected
            ? nameof(LvsErrorKind.HostUnreachable)
            : remoteError?.FullyQualifiedErrorId.Split(',')[0] is { Length: > 0 } id && Enum.GetNames<LvsErrorKind>().Contains(id)
                ? id
                : nameof(LvsErrorKind.RemoteCommandFailed);

    /// <summary>The non-terminating error a failed host is reported with (besides its result object).</summary>
    public static ErrorRecord HostError(string computerName, string errorId, string message, Exception? inner)
    {
        var category = Enum.TryParse<LvsErrorKind>(errorId, out var kind) ? LvsCmdlet.CategoryFor(kind) : ErrorCategory.InvalidOperation;
        return new ErrorRecord(new InvalidOperationException($"[{computerName}] {message}", inner), errorId, category, computerName);
    }

    public static string MessageOf(HostRunResult r, ErrorRecord? remoteError) =>
        r.Failure?.Message ?? remoteError?.Exception?.Message ?? remoteError?.ToString() ?? "failed";

    public static RemoteRunner CreateRunner(string? userName, string? keyFilePath, int port, int throttleLimit, bool force = false) =>
        new(new SshOptions { UserName = userName, KeyFilePath = keyFilePath, Port = port }, throttleLimit, force);

    public static bool IsWhatIf(PSCmdlet cmdlet) =>
        cmdlet.MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w)
            ? w is SwitchParameter { IsPresent: true } || w is true
            : cmdlet.SessionState.PSVariable.GetValue("WhatIfPreference") is SwitchParameter { IsPresent: true } or true;
}
