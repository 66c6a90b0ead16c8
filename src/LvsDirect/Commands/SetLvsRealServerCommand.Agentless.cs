using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Pool;
using LvsDirect.Core.Tools;
using LvsDirect.Remoting;

namespace LvsDirect.Commands;

/// <summary>
/// Set-LvsRealServer -Transport Ssh: each host gets one ssh session running a fixed sh script (no pwsh, no
/// module, no agent there). The script reads the host's state under its lock; the plan is made here, exactly as
/// for a local run, and streamed back as argument vectors; with -Persist the state is read again and the
/// rc.local block and the saved rules are written from it, atomically, in the same session.
/// </summary>
public sealed partial class SetLvsRealServerCommand
{
    private static readonly string SavedRulesFolder = Path.GetDirectoryName(AgentlessDiagnosis.SavedRulesDefaultPath)!;

    /// <summary>How to reach hosts given by name: PowerShell remoting (the default) or agentless SSH.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [Parameter(ParameterSetName = ConfigSet)]
    public LvsTransport Transport { get; set; } = LvsTransport.PowerShell;

    private void RunAgentless(IReadOnlyList<(string Host, IReadOnlyList<string> Vips)> hosts)
    {
        var whatIf = RemoteCmdlet.IsWhatIf(this);
        var rcLocal = RcLocalPath is null ? null : RemotePath(RcLocalPath, nameof(RcLocalPath));
        var arpRules = ArpRulesPath is null ? null : RemotePath(ArpRulesPath, nameof(ArpRulesPath));
        var key = KeyFilePath is null ? null : GetUnresolvedProviderPathFromPSPath(KeyFilePath);

        // Every host name and VIP is validated before any host is contacted: bad input changes nothing anywhere.
        var work = hosts.Select(h => new AgentlessWork(
                new SshTarget(h.Host, UserName, Port == 0 ? null : Port, key),
                h.Vips.Select(v => InputValidation.ParseCidr(v)).Distinct().ToList()))
            .ToList();
        var confirmed = work.Where(w => whatIf || ShouldProcess(w.Target.HostName, $"Set the LVS-DR real server configuration over ssh (VIPs: {(w.Vips.Count == 0 ? "none" : string.Join(", ", w.Vips.Select(v => v.Address)))})")).ToList();
        if (confirmed.Count == 0)
        {
            return;
        }

        var channel = new AgentlessChannel();
        ForEachHost(ProgressActivityId + 2, confirmed, w => w.Target.HostName, ThrottleLimit, (w, ct) => ApplyAgentless(channel, w, whatIf, rcLocal, arpRules, ct), outcome =>
        {
            var result = outcome.Result ?? Failed(outcome.Item.Target.HostName, outcome.Error!, outcome.Duration);
            if (result.Status == RealServerStatus.Failed)
            {
                var category = outcome.Error is LvsException lvs ? CategoryFor(lvs.Kind) : ErrorCategory.InvalidOperation;
                WriteError(new ErrorRecord(
                    new InvalidOperationException($"[{result.ComputerName}] {result.Error}", outcome.Error),
                    result.ErrorId ?? nameof(LvsErrorKind.RemoteFailed),
                    category,
                    result.ComputerName));
            }
            else if (result.Status == RealServerStatus.WhatIf)
            {
                ShouldProcess(result.ComputerName, $"Set-LvsRealServer: {Describe(result)}");
            }

            WriteObject(result);
        });
    }

    /// <summary>One host, on a worker thread: nothing here writes to the pipeline.</summary>
    private RealServerResult ApplyAgentless(AgentlessChannel channel, AgentlessWork w, bool whatIf, string? rcLocal, string? arpRules, CancellationToken cancellationToken)
    {
        RealServerPlan? planned = null;
        var writes = new List<RemoteFileWrite>();
        IReadOnlyList<string> files = Persist.IsPresent
            ? [.. AgentlessDiagnosis.FilesToRead(rcLocal, arpRules), SavedRulesFolder, .. AgentlessDiagnosis.OwnershipFiles(rcLocal)]
            : AgentlessDiagnosis.OwnershipFiles(rcLocal);
        files = files.Distinct().ToList();
        var run = channel.Run(w.Target, files, snapshot =>
        {
            if (!snapshot.IsRoot)
            {
                throw new LvsException(LvsErrorKind.NotRoot,
                    $"{w.Target}: Set-LvsRealServer needs root on the host (ip and arptables change kernel state only for root); log in as root with -UserName root.",
                    w.Target.HostName);
            }

            foreach (var program in new[] { "ip", "arptables", "flock", "base64" })
            {
                if (!snapshot.Programs.Contains(program))
                {
                    var missing = ToolLocator.NotFound(program);
                    throw new LvsException(LvsErrorKind.ProgramNotFound, $"{w.Target}: {missing.Message}", w.Target.HostName);
                }
            }

            var state = snapshot.ToHostState();
            var ownership = snapshot.ReadOwnership(rcLocal);
            planned = RealServerPlanner.Create(state, ownership, w.Vips, InterfaceName, adopt: Adopt.IsPresent);
            if (planned.Plan.Rejected.Count > 0)
            {
                throw planned.Plan.Rejected[0];
            }

            // The record is written in the same session, after the steps (the script stops at a failed one).
            var next = ownership.After(state, planned.Recorded, planned.Forgotten);
            var recordPath = snapshot.VipRecordPath
                ?? throw new LvsException(LvsErrorKind.RemoteFailed, $"{w.Target}: the agentless script did not name its state folder.", w.Target.HostName);
            var operations = planned.Plan.Steps.Select(s => (RemoteOperation)new RemoteCommandOperation(s.Command)).ToList();
            if (ownership.Differs(next))
            {
                operations.Add(new RemoteFileWrite(recordPath, VipRecord.Render(next), "0600"));
            }

            var managedAfter = new Ownership(next, ownership.FromBootFiles, ownership.BuiltinRuleVips);
            return whatIf
                ? null
                : new RemoteBatch
                {
                    Operations = operations,
                    Then = Persist.IsPresent ? after => writes = PersistWrites(snapshot, after, rcLocal, arpRules, managedAfter) : null,
                };
        }, cancellationToken);

        var failed = run.Failed;
        var commands = planned!.Plan.Steps.Select(s => s.Command.ToDisplayString()).Concat(writes.Select(x => x.Describe())).ToList();
        return new RealServerResult
        {
            ComputerName = w.Target.HostName,
            Status = failed is not null ? RealServerStatus.Failed : RealServerPool.StatusOf(planned.Changes, writes.Count > 0, whatIf, planned.Adopted.Count > 0),
            Method = Method,
            Changes = planned.Changes,
            Adopted = planned.Adopted,
            PersistenceChanged = writes.Count > 0 && failed is null,
            Commands = commands,
            Duration = run.Duration,
            Error = failed is null ? null : $"'{failed.Operation.Describe()}' failed with exit code {failed.Output.ExitCode}: {failed.Output.StandardError.Trim()}",
            ErrorId = failed is null ? null : nameof(LvsErrorKind.CommandFailed),
        };
    }

    /// <summary>
    /// What Export-RcLocal and Save-ArpSuppression would write on the host, from its state after the change:
    /// only the files whose content differs, so a second run writes nothing.
    /// </summary>
    private static List<RemoteFileWrite> PersistWrites(RemoteSnapshot before, HostState after, string? rcLocal, string? arpRules, Ownership ownership)
    {
        var writes = new List<RemoteFileWrite>();
        var dialect = after.RequireDialect();
        var vips = Core.Planning.VipListing.List(after, all: false, ownership)
            .Select(v => new RcVip(v.Address, v.PrefixLength, v.InterfaceName, v.Label, v.Broadcast, v.RealIP))
            .ToList();
        var rcPath = rcLocal ?? AgentlessDiagnosis.RcLocalPathOn(before);
        var existing = before.Files.GetValueOrDefault(rcPath);
        var content = RcLocal.Merge(existing, RcLocal.RenderBlock(dialect, vips));
        var executable = before.FileModes.TryGetValue(rcPath, out var mode) && (Convert.ToInt32(mode, 8) & Convert.ToInt32("111", 8)) == Convert.ToInt32("111", 8);
        if (content != existing || !executable)
        {
            writes.Add(new RemoteFileWrite(rcPath, content, "0755") { EnsureExecutable = true });
        }

        // Like Save-ArpSuppression: the rules go where the arptables service loads them, when the host has that
        // folder (or -ArpRulesPath says where).
        var rulesPath = arpRules ?? AgentlessDiagnosis.SavedRulesDefaultPath;
        if (arpRules is not null || before.Exists(SavedRulesFolder))
        {
            var rules = after.ArpRules!.Render(dialect, [], _ => false);
            if (rules != before.Files.GetValueOrDefault(rulesPath))
            {
                writes.Add(new RemoteFileWrite(rulesPath, rules, "0600"));
            }
        }

        return writes;
    }

    private RealServerResult Failed(string host, Exception error, TimeSpan duration) => new()
    {
        ComputerName = host,
        Status = RealServerStatus.Failed,
        Method = Method,
        Duration = duration,
        Error = error.Message,
        ErrorId = (error as LvsException)?.ErrorId ?? nameof(LvsErrorKind.RemoteFailed),
    };

    private sealed record AgentlessWork(SshTarget Target, IReadOnlyList<(IPAddress Address, int PrefixLength)> Vips);
}
