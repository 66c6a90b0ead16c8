using System.Management.Automation;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;

namespace LvsDirect.Commands;

/// <summary>
/// Runs a persistence plan's items on this host for a cmdlet: its warnings, -WhatIf/-Confirm for the file and
/// for each service command, then the local executor. The plan decides; this only asks and runs.
/// </summary>
internal static class PersistenceRun
{
    /// <summary>
    /// Applies one item. Returns false when -WhatIf (or a No) left its file as it was; true when it is up to
    /// date (written now, or already). <paramref name="serviceEnabled"/> says whether its services ran.
    /// </summary>
    public static bool Apply(Cmdlet cmdlet, IProcessRunner runner, PersistenceItem item, string caption, out bool serviceEnabled, CancellationToken cancellationToken)
    {
        serviceEnabled = false;
        foreach (var w in item.Warnings)
        {
            cmdlet.WriteWarning(w);
        }

        if (item.Skipped)
        {
            return false;
        }

        if ((item.Changed || item.Lines.Count > 0) && !cmdlet.ShouldProcess(item.Action, $"{item.Action.Split('\n')[0]}?", caption))
        {
            return false;
        }

        foreach (var op in item.Writes)
        {
            OperationExecutor.Run(op, runner, cancellationToken);
        }

        cmdlet.WriteVerbose(item.Changed ? $"Wrote {item.Path}" : $"{item.Path} is already up to date");
        serviceEnabled = item.Services.Count > 0;
        foreach (var op in item.Services)
        {
            if (!cmdlet.ShouldProcess(op.Describe(), $"Run {op.Describe()}?", caption))
            {
                serviceEnabled = false;
                continue;
            }

            OperationExecutor.Run(op, runner, cancellationToken);
        }

        return true;
    }
}
