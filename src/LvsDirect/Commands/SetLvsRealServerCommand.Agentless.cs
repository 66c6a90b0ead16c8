using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Pool;
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
    // -SysctlStatePath on each host (checked before any host is contacted); null for each namespace's default.
    private string? _sysctlRecord;

    // -NftConfigPath on each host, checked with the other paths.
    private string? _nftConfig;

    private void RunAgentless(IReadOnlyList<(string Host, IReadOnlyList<string> Vips)> hosts)
    {
        var whatIf = RemoteCmdlet.IsWhatIf(this);
        var rcLocal = RcLocalPath is null ? null : RemotePath(RcLocalPath, nameof(RcLocalPath));
        var arpRules = ArpRulesPath is null ? null : RemotePath(ArpRulesPath, nameof(ArpRulesPath));
        _sysctlRecord = SysctlStatePath is null ? null : RemotePath(SysctlStatePath, nameof(SysctlStatePath));
        _nftConfig = NftConfigPath is null ? null : RemotePath(NftConfigPath, nameof(NftConfigPath));

        // Every host name and VIP is validated before any host is contacted: bad input changes nothing anywhere.
        var work = hosts.Select(h => new AgentlessWork(
                Connection.Target(h.Host),
                h.Vips.Select(v => InputValidation.ParseVipCidr(v)).Distinct().ToList()))
            .ToList();
        var confirmed = work.Where(w => whatIf || ShouldProcess(w.Target.HostName, $"Set the LVS-DR real server configuration over ssh (VIPs: {(w.Vips.Count == 0 ? "none" : string.Join(", ", w.Vips.Select(v => v.Address)))})")).ToList();
        if (confirmed.Count == 0)
        {
            return;
        }

        var channel = new AgentlessChannel();
        ForEachHost(ProgressActivityId + 2, confirmed, w => w.Target.HostName, ThrottleLimit, (w, ct) => ApplyAgentless(channel, w, whatIf, rcLocal, arpRules, ct), outcome =>
        {
            // The plan's warnings are written here, on the pipeline thread, as a local run writes them.
            foreach (var warning in outcome.Result?.Warnings ?? [])
            {
                WriteWarning($"{outcome.Item.Target.HostName}: {warning}");
            }

            var result = outcome.Result?.Result ?? Failed(outcome.Item.Target.HostName, outcome.Error!, outcome.Duration);
            if (result.Status == RealServerStatus.Failed)
            {
                WriteHostFailure(HostFailure.FromId(result.ComputerName, result.ErrorId, result.Error), outcome.Error);
            }
            else if (result.Status == RealServerStatus.WhatIf)
            {
                ShouldProcess(result.ComputerName, $"Set-LvsRealServer: {Describe(result)}");
            }

            WriteObject(result);
        });
    }

    /// <summary>One host, on a worker thread: nothing here writes to the pipeline.</summary>
    private AgentlessOutcome ApplyAgentless(AgentlessChannel channel, AgentlessWork w, bool whatIf, string? rcLocal, string? arpRules, CancellationToken cancellationToken)
    {
        AgentlessRealServerPlan? planned = null;
        PersistencePlan? persisted = null;
        var request = new RealServerRequest(w.Vips, InterfaceName, Method, Convert: MyInvocation.BoundParameters.ContainsKey(nameof(Method)), Adopt.IsPresent, rcLocal, _sysctlRecord);
        IReadOnlyList<string> files = Persist.IsPresent
            ? [.. AgentlessDiagnosis.OwnershipFiles(rcLocal), .. PersistencePlan.FilesToRead(PersistenceTargets(arpRules, _nftConfig, BootTarget(rcLocal, RcLocal.DefaultPath(hasRcD: false)))), NftConf.DefaultPath]
            : AgentlessDiagnosis.OwnershipFiles(rcLocal);
        files = files.Concat(_sysctlRecord is null ? [] : [_sysctlRecord]).Distinct().ToList();
        var run = channel.Run(w.Target, files, snapshot =>
        {
            planned = AgentlessRealServer.Plan(snapshot, request, w.Target.ToString());
            return whatIf
                ? null
                : new RemoteBatch
                {
                    Operations = planned.Operations,
                    Then = Persist.IsPresent ? after => (persisted = PersistWrites(snapshot, after, rcLocal, arpRules, planned.ManagedAfter)).Operations : null,
                };
        }, cancellationToken, AgentlessRealServer.Reads | (Persist.IsPresent ? RemoteReads.Redirects : RemoteReads.None));

        var failed = run.Failed;
        var plan = planned!.Planned;
        var commands = plan.Plan.Steps.Select(s => s.Command.ToDisplayString()).Concat(persisted?.Operations.Select(x => x.Describe()) ?? []).ToList();
        var persistenceChanged = persisted?.Changed == true;
        return new AgentlessOutcome(new RealServerResult
        {
            ComputerName = w.Target.HostName,
            Status = failed is not null ? RealServerStatus.Failed : RealServerPool.StatusOf(plan.Changes, persistenceChanged, whatIf, plan.Adopted.Count > 0),
            Method = Method,
            Changes = plan.Changes,
            Adopted = plan.Adopted,
            PersistenceChanged = persistenceChanged && failed is null,
            Commands = commands,
            Duration = run.Duration,
            Error = failed is null ? null : $"'{failed.Operation.Describe()}' failed with exit code {failed.Output.ExitCode}: {failed.Output.StandardError.Trim()}",
            ErrorId = failed is null ? null : nameof(LvsErrorKind.CommandFailed),
        }, persisted?.Items.SelectMany(i => i.Warnings).ToList() ?? []);
    }

    /// <summary>
    /// -Persist over ssh: the same plan as a local run (<see cref="PersistenceTargets"/>), made from the host's state
    /// after the change and the files its script read, executed by the script. Only files whose content differs
    /// are written, so a second run writes nothing. The REDIRECT rules are the host's when the script read them;
    /// otherwise the ones its boot block already recreates are kept.
    /// </summary>
    private PersistencePlan PersistWrites(RemoteSnapshot before, HostState after, string? rcLocal, string? arpRules, Ownership ownership)
    {
        var host = new RemotePersistenceHost(before);
        var rcPath = rcLocal ?? AgentlessDiagnosis.RcLocalPathOn(before);
        var redirects = before.Reads.TryGetValue("redirects", out var read) && read.ExitCode == 0
            ? RedirectSyntax.Parse(read.StandardOutput)
            : RcLocal.ReadBlock(host.ReadText(rcPath)).Redirects.Select(r => r.Rule).ToList();
        var input = PersistenceInput.For(after, Core.Planning.VipListing.List(after, all: false, ownership), redirects, NftBootFile(arpRules, host));
        return PersistencePlan.Create(input, host, PersistenceTargets(arpRules, _nftConfig, BootTarget(rcLocal, rcPath)));
    }

    private RealServerResult Failed(string host, Exception error, TimeSpan duration)
    {
        var failure = HostFailure.FromException(host, error);
        return new()
        {
            ComputerName = host,
            Status = RealServerStatus.Failed,
            Method = Method,
            Duration = duration,
            Error = failure.Message,
            ErrorId = failure.ErrorId,
        };
    }

    /// <summary>A host's result and the warnings of its persistence plan, for the pipeline thread to write.</summary>
    private sealed record AgentlessOutcome(RealServerResult Result, IReadOnlyList<string> Warnings);

    private sealed record AgentlessWork(SshTarget Target, IReadOnlyList<(IPAddress Address, int PrefixLength)> Vips);
}
