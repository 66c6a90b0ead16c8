using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;
using LvsDirect.Core.Tools;
using LvsDirect.Remoting;

namespace LvsDirect;

/// <summary>
/// Base of every LvsDirect cmdlet: owns cancellation (Ctrl+C stops between steps, never inside one), the
/// process runner with -Verbose logging, the host lock, and the one mapping from Core errors to ErrorRecords.
/// </summary>
public abstract class LvsCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _cancel = new();
    private IProcessRunner? _runner;
    private HostScope? _scope;
    private bool? _verboseShown;

    /// <summary>Test seam: xUnit replaces the runner to host cmdlets without touching the machine.</summary>
    internal static Func<IProcessRunner> RunnerFactory { get; set; } = () => ProcessRunner.Default;

    /// <summary>Test seam for the root precondition.</summary>
    internal static Func<bool> IsRoot { get; set; } = () => Privileges.IsRoot;

    /// <summary>Test seam: where the ownership record is (xUnit points it at a temp file).</summary>
    internal static Func<string>? VipRecordPathOverride { get; set; }

    /// <summary>Test seam: how the network namespace of a command is identified (xUnit counts the calls).</summary>
    internal static Func<HostScope> IdentifyScope { get; set; } = HostScope.Current;

    /// <summary>How long to wait for another LvsDirect run on the same host to finish.</summary>
    internal static TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The Write-Progress activity id of plan execution (pool runs use others).</summary>
    protected const int ProgressActivityId = 4711;

    protected CancellationToken CancellationToken => _cancel.Token;

    protected IProcessRunner Runner => _runner ??= new LoggingProcessRunner(RunnerFactory(), LogResult);

    /// <summary>This host as persistence plans see it: its files, and its programs as <see cref="Runner"/> finds them.</summary>
    protected IPersistenceHost LocalHost => new LocalPersistenceHost(Runner);

    /// <summary>
    /// The network namespace this command changes, identified once per command: the lock, the ownership record
    /// and the sysctl record all follow from it, so they cannot disagree (and the namespace is not looked up again).
    /// </summary>
    protected HostScope Scope => _scope ??= IdentifyScope();

    protected override void StopProcessing() => _cancel.Cancel();

    /// <summary>
    /// Optional pipeline-bound values arrive empty or null from objects that lack them (a VIP without a label);
    /// both mean "not given".
    /// </summary>
    protected static string? Optional(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    protected void DemandRoot()
    {
        if (!IsRoot())
        {
            throw new LvsException(LvsErrorKind.NotRoot,
                $"{MyInvocation.MyCommand.Name} needs root: ip and arptables change (and arptables reads) kernel state only for root or CAP_NET_ADMIN. Run pwsh as root (sudo pwsh).",
                MyInvocation.MyCommand.Name);
        }
    }

    protected HostState ReadState(bool includeArpRules, bool includeSysctls = false) =>
        new HostInspector(Runner).Read(includeArpRules, CancellationToken, includeSysctls);

    /// <summary>
    /// Reads everything that may suppress ARP on this host: the arptables rules and LvsDirect's nftables table,
    /// each where its program is installed (a host may have either alone); with neither, arptables is asked
    /// so that the error names the package to install.
    /// </summary>
    protected HostState ReadSuppressionState(bool includeSysctls = false)
    {
        var arptables = Runner.Locate("arptables") is not null;
        var nft = Runner.Locate("nft") is not null;
        return new HostInspector(Runner).Read(arptables || !nft, CancellationToken, includeSysctls, nft);
    }

    /// <summary>The sysctl method's record of replaced values: the given path, or the default for this network namespace.</summary>
    protected string SysctlStatePathOrDefault(string? path) =>
        path is null ? SysctlStateFile.DefaultPath(Scope) : GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>This network namespace's ownership record (<see cref="VipRecord"/>).</summary>
    protected string VipRecordPath => VipRecordPathOverride?.Invoke() ?? VipRecord.DefaultPath(Scope);

    /// <summary>Which VIPs LvsDirect manages here: its record, and the boot files that apply (<paramref name="rcLocalPath"/> when given).</summary>
    protected Ownership ReadOwnership(string? rcLocalPath = null) => Ownership.Read(VipRecordPath, Scope.Kind, rcLocalPath);

    /// <summary>
    /// The host's state and LvsDirect's ownership record. The record is a file of its own, so it is read and parsed
    /// on another thread while the state's programs run (a record of 1000 VIPs took a few ms of a re-run).
    /// </summary>
    protected (HostState State, Ownership Ownership) ReadStateAndOwnership(Func<HostState> readState, string? rcLocalPath = null)
    {
        var record = VipRecordPath;
        var kind = Scope.Kind;
        var ownership = Workers.Start(() => Ownership.Read(record, kind, rcLocalPath));
        // When the state cannot be read, that failure is the one reported; the record's, if any, is dropped.
        var state = readState();
        return (state, ownership.Result());
    }

    /// <summary>
    /// Asks ShouldProcess once per VIP to adopt, so -WhatIf shows each adoption and -Confirm asks for it; false
    /// when one was declined (then nothing runs: the plan treats the VIP's rules as LvsDirect's).
    /// </summary>
    protected bool ConfirmAdoption(IReadOnlyCollection<IPAddress> adopted)
    {
        foreach (var a in adopted)
        {
            if (!ShouldProcess(
                    $"Adopt {a}: record it in {VipRecordPath} as managed by LvsDirect; its address and its arptables rules in the built-in chains become LvsDirect's",
                    $"Adopt {a}, a VIP LvsDirect did not create?",
                    "Adopt VIP",
                    out var why)
                && why != ShouldProcessReason.WhatIf)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Runs a plan (<see cref="ExecutePlan"/>) and keeps the ownership record in step with it, in the same
    /// locked run: VIPs added (or adopted) are recorded, removed ones forgotten. When the plan stops or fails
    /// part-way, the record follows what is on the host now, so no VIP LvsDirect added is left unrecorded.
    /// </summary>
    protected bool ExecuteOwnedPlan(Plan plan, string? sysctlStatePath, Ownership ownership, HostState state, IReadOnlyList<ManagedVip> added, IReadOnlyList<IPAddress> removed)
    {
        var kept = new List<ManagedVip>(added.Count);
        foreach (var v in added)
        {
            if (!plan.Refused.Contains(v.Address))
            {
                kept.Add(v);
            }
        }

        added = kept;

        // A run that only adds writes its record while its addresses go in (the longest step) instead of after
        // them. A record that names a VIP a moment before its address exists is safe: should the run stop in
        // between, the VIP is LvsDirect's either way, and one not on the host is only a name to forget. A run that
        // removes writes afterwards: forgetting a VIP before its address is gone would leave it looking foreign.
        Job<IReadOnlyList<ManagedVip>?>? early = null;
        void AddressesStarting()
        {
            if (early is not null || removed.Count > 0 || added.Count == 0)
            {
                return;
            }

            // Worked out on the worker too: nothing here reads what the running steps change.
            var path = VipRecordPath;
            early = Workers.Start<IReadOnlyList<ManagedVip>?>(() =>
            {
                var next = ownership.After(state, added, removed);
                return WriteRecord(path, ownership, next, rewrite: false) ? next : null;
            });
        }

        // Waits for the early write; one that failed may have got as far as the file.
        bool EarlyWritten() => early is not null && (early.Failed() || early.Result() is not null);

        bool complete;
        try
        {
            complete = ExecutePlan(plan, sysctlStatePath, AddressesStarting);
        }
        catch (Exception) when (!RemoteCmdlet.IsWhatIf(this))
        {
            RecordWhatIsThere(ownership, state, added, removed, rewrite: EarlyWritten());
            throw;
        }

        if (RemoteCmdlet.IsWhatIf(this))
        {
            return complete;
        }

        if (!complete)
        {
            RecordWhatIsThere(ownership, state, added, removed, rewrite: EarlyWritten());
        }
        else if (early is null)
        {
            SaveOwnership(ownership, ownership.After(state, added, removed));
        }
        else if (early.Result() is { } saved)
        {
            // The record's own failure, if any, was thrown just above, where saving after the steps throws it.
            WriteRecordSaved(saved);
        }

        return complete;
    }

    /// <summary>
    /// The record as the host is after a run that stopped. <paramref name="rewrite"/>: it was already written
    /// for the run as planned, so it is written again even where it comes back to what it was before the run.
    /// </summary>
    private void RecordWhatIsThere(Ownership ownership, HostState state, IReadOnlyList<ManagedVip> added, IReadOnlyList<IPAddress> removed, bool rewrite = false)
    {
        try
        {
            var now = ReadState(false);
            SaveOwnership(ownership, ownership.After(state, added.Where(v => now.FindAddress(v.Address).Any()), removed.Where(a => !now.FindAddress(a).Any())), rewrite);
        }
        catch (LvsException ex)
        {
            WriteWarning($"The ownership record {VipRecordPath} could not be brought up to date: {ex.Message}");
        }
    }

    private void SaveOwnership(Ownership before, IReadOnlyList<ManagedVip> next, bool rewrite = false)
    {
        if (WriteRecord(VipRecordPath, before, next, rewrite))
        {
            WriteRecordSaved(next);
        }
    }

    /// <summary>Writes <paramref name="next"/> where it differs from the record read before the run (or always, with <paramref name="rewrite"/>); any thread.</summary>
    private static bool WriteRecord(string path, Ownership before, IReadOnlyList<ManagedVip> next, bool rewrite) =>
        (rewrite || before.Differs(next)) && VipRecord.Save(path, next);

    private void WriteRecordSaved(IReadOnlyList<ManagedVip> next)
    {
        if (VerboseShown)
        {
            WriteVerbose($"Ownership record {VipRecordPath}: {(next.Count == 0 ? "no VIPs" : string.Join(", ", next.Select(v => v.Address)))}");
        }
    }

    /// <summary>Runs <paramref name="body"/> under the per-host lock so overlapping runs cannot lose each other's changes.</summary>
    protected T WithHostLock<T>(Func<T> body)
    {
        var path = HostLock.DefaultPath(Scope);
        WriteVerbose($"Waiting for the LvsDirect host lock {path}");
        using var hostLock = HostLock.Acquire(LockTimeout, CancellationToken, path);
        return body();
    }

    /// <summary>
    /// Runs a plan step by step, asking ShouldProcess for each with the exact command it will run. Sysctl values
    /// the plan raises are recorded in <paramref name="sysctlStatePath"/> before anything runs (so a crash
    /// half-way still knows what to restore), and restored ones are forgotten only once every step has run.
    /// </summary>
    /// <param name="addressesStarting">Called on this thread once the step that adds addresses is confirmed, just before it runs.</param>
    protected bool ExecutePlan(Plan plan, string? sysctlStatePath = null, Action? addressesStarting = null)
    {
        foreach (var rejected in plan.Rejected)
        {
            WriteLvsError(rejected);
        }

        if (plan.SysctlRecorded.Count > 0)
        {
            var path = sysctlStatePath ?? SysctlStatePathOrDefault(null);
            var list = string.Join(", ", plan.SysctlRecorded.Select(r => $"{r.Key.Name}={r.Previous}"));
            if (ShouldProcess($"Record the ARP sysctl values before the change in {path}: {list}", $"Record {list} in {path}?", "Record ARP sysctls", out var why))
            {
                var known = SysctlStateFile.Load(path);
                SysctlStateFile.Save(path, [.. known, .. plan.SysctlRecorded.Where(r => known.All(k => k.Key != r.Key))]);
            }
            else if (why != ShouldProcessReason.WhatIf)
            {
                return false;
            }
        }

        // Large batches and rule-by-rule changes take a while: show which step of how many is running.
        var showProgress = plan.Steps.Count > 1;
        var progress = new ProgressRecord(ProgressActivityId, MyInvocation.MyCommand.Name, "Starting");
        int executed;
        try
        {
            executed = ExecuteSteps(plan, showProgress, progress, addressesStarting);
        }
        finally
        {
            // A lane run on another thread leaves its process lines for this one to write.
            (Runner as LoggingProcessRunner)?.Flush();
        }

        if (showProgress)
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }

        if (executed != plan.Steps.Count)
        {
            return false;
        }

        if (plan.SysctlForgotten.Count > 0)
        {
            var path = sysctlStatePath ?? SysctlStatePathOrDefault(null);
            var forget = plan.SysctlForgotten.Select(r => r.Key).ToHashSet();
            SysctlStateFile.Save(path, SysctlStateFile.Load(path).Where(r => !forget.Contains(r.Key)).ToList());
            WriteVerbose($"Forgot the restored ARP sysctls in {path}");
        }

        return true;
    }

    private int ExecuteSteps(Plan plan, bool showProgress, ProgressRecord progress, Action? addressesStarting)
    {
        var index = 0;
        return new PlanExecutor(Runner).Execute(
            plan,
            step =>
            {
                if (showProgress)
                {
                    index++;
                    progress.StatusDescription = $"Step {index} of {plan.Steps.Count}: {step.Action} {BriefTarget(step.Target)}";
                    progress.PercentComplete = (index - 1) * 100 / plan.Steps.Count;
                    WriteProgress(progress);
                }

                var command = step.Command.ToDisplayString();
                if (ShouldProcess(
                        $"{step.Action} {step.Target}: {command}",
                        $"{step.Action} {step.Target}?\n{command}",
                        step.Action,
                        out var reason))
                {
                    if (step.Kind == StepKind.AddAddresses)
                    {
                        addressesStarting?.Invoke();
                    }

                    return StepDecision.Run;
                }

                return reason == ShouldProcessReason.WhatIf ? StepDecision.Preview : StepDecision.Stop;
            },
            CancellationToken);
    }

    /// <summary>
    /// A step's target as a progress line shows it: a batch's list of thousands of addresses is cut after its first
    /// items and counted ("…, and 998 more"); -WhatIf and -Confirm still name every one.
    /// </summary>
    internal static string BriefTarget(string target, int length = 100)
    {
        if (target.Length <= length)
        {
            return target;
        }

        var cut = target.LastIndexOf(", ", length, StringComparison.Ordinal);
        if (cut <= 0)
        {
            return target;
        }

        var more = target.AsSpan(cut).Count(", ");
        return $"{target.AsSpan(0, cut)}, and {more} more";
    }

    /// <summary>
    /// The one host pool and progress loop of every transport: runs <paramref name="work"/> for each host side by
    /// side (up to <paramref name="throttleLimit"/>) and hands each outcome to <paramref name="onOutcome"/> on the
    /// pipeline thread as it arrives, with Write-Progress "i of n hosts done".
    /// </summary>
    protected void ForEachHost<TItem, TResult>(
        int activityId,
        IReadOnlyList<TItem> hosts,
        Func<TItem, string> hostName,
        int throttleLimit,
        Func<TItem, CancellationToken, TResult> work,
        Action<HostOutcome<TItem, TResult>> onOutcome)
    {
        if (hosts.Count == 0)
        {
            return;
        }

        var progress = new ProgressRecord(activityId, MyInvocation.MyCommand.Name, $"0 of {hosts.Count} hosts done");
        WriteProgress(progress);
        var done = 0;
        foreach (var outcome in HostParallel.Run(hosts, throttleLimit, work, CancellationToken))
        {
            done++;
            progress.StatusDescription = $"{done} of {hosts.Count} hosts done (last: {hostName(outcome.Item)})";
            progress.PercentComplete = done * 100 / hosts.Count;
            WriteProgress(progress);
            onOutcome(outcome);
        }

        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }

    /// <summary>A path on a remote host: absolute, taken as given (not resolved against this machine's current folder).</summary>
    protected static string RemotePath(string path, string parameter) =>
        path.StartsWith('/') ? path : throw new LvsException(LvsErrorKind.InvalidArgument, $"-{parameter} must be an absolute path on the remote host: '{path}'.", path);

    /// <summary>Wraps the record's work so Core failures become ErrorRecords with stable ids.</summary>
    protected void Guard(Action body)
    {
        try
        {
            body();
        }
        catch (LvsException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    protected void WriteLvsError(LvsException ex) => WriteError(ToErrorRecord(ex));

    internal static ErrorRecord ToErrorRecord(LvsException ex) =>
        new(ex, ex.ErrorId, CategoryFor(ex.Kind), ex.Target);

    internal static ErrorCategory CategoryFor(LvsErrorKind kind) => kind switch
    {
        LvsErrorKind.NotRoot => ErrorCategory.PermissionDenied,
        LvsErrorKind.ProgramNotFound => ErrorCategory.ObjectNotFound,
        LvsErrorKind.InvalidAddress => ErrorCategory.InvalidArgument,
        LvsErrorKind.InvalidPrefix => ErrorCategory.InvalidArgument,
        LvsErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        LvsErrorKind.UnknownInterface => ErrorCategory.ObjectNotFound,
        LvsErrorKind.CommandFailed => ErrorCategory.InvalidOperation,
        LvsErrorKind.LockTimeout => ErrorCategory.ResourceBusy,
        LvsErrorKind.FileError => ErrorCategory.WriteError,
        LvsErrorKind.ParseError => ErrorCategory.ParserError,
        LvsErrorKind.VipStillConfigured => ErrorCategory.ResourceExists,
        LvsErrorKind.NoArpReply => ErrorCategory.ObjectNotFound,
        LvsErrorKind.HostUnreachable => ErrorCategory.ConnectionError,
        LvsErrorKind.AuthenticationFailed => ErrorCategory.AuthenticationError,
        LvsErrorKind.HostKeyUnknown => ErrorCategory.SecurityError,
        LvsErrorKind.RemoteFailed => ErrorCategory.ProtocolError,
        LvsErrorKind.NotManaged => ErrorCategory.PermissionDenied,
        LvsErrorKind.InvalidVip or LvsErrorKind.HostAddress or LvsErrorKind.GatewayAddress or LvsErrorKind.InvalidRealIP or LvsErrorKind.ConflictingRequest
            => ErrorCategory.InvalidArgument,
        LvsErrorKind.VipOnOtherInterface => ErrorCategory.ResourceExists,
        LvsErrorKind.NetworkStackNotFound => ErrorCategory.ObjectNotFound,
        LvsErrorKind.SuppressionNotPersisted => ErrorCategory.InvalidOperation,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>
    /// Tells -Verbose what the plan does to each item, one line per change. The lines are only built when they
    /// would be shown: a thousand VIPs make two thousand changes, and their text costs a run more than some of
    /// its programs.
    /// </summary>
    protected void WriteChanges(IEnumerable<ItemChange> changes)
    {
        if (!VerboseShown)
        {
            return;
        }

        foreach (var c in changes)
        {
            WriteVerbose($"{c.Subject} {c.Address}: {c.Kind} ({c.Detail})");
        }
    }

    /// <summary>
    /// Whether PowerShell would show this command's WriteVerbose lines: -Verbose as given, or else
    /// $VerbosePreference; when in doubt, yes.
    /// </summary>
    private bool VerboseShown => _verboseShown ??= AskVerboseShown();

    private bool AskVerboseShown()
    {
        if (MyInvocation.BoundParameters.TryGetValue("Verbose", out var verbose))
        {
            return LanguagePrimitives.IsTrue(verbose);
        }

        try
        {
            var preference = LanguagePrimitives.ConvertTo<ActionPreference>(GetVariableValue("VerbosePreference"));
            return preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
        }
        catch (PSInvalidCastException)
        {
            return true;
        }
    }

    private void LogResult(ToolResult r)
    {
        if (VerboseShown)
        {
            WriteVerbose($"{r.Command.ToSummaryString()} -> exit {r.ExitCode} in {r.Elapsed.TotalMilliseconds:0} ms");
        }
    }
}
