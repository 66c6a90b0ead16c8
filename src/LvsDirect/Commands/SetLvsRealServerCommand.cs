using System.Collections;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using LvsDirect.Core.Config;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Persistence.Native;
using LvsDirect.Core.Planning;
using LvsDirect.Core.Pool;
using LvsDirect.Core.Tools;
using LvsDirect.Remoting;

namespace LvsDirect.Commands;

/// <summary>
/// Desired state of a real server in one call: exactly the VIPs given, each with its ARP suppression; VIPs
/// LvsDirect manages there but not given are removed (so `-VirtualIP @()` removes them all), and nothing else
/// is touched. Runs here, on hosts by name over SSH, through PSSessions, or on every real server of the
/// director's services piped from Import-LvsConfig. One result per host; a host that fails does not stop the
/// others and is reported both as a non-terminating error and as a Failed result.
/// </summary>
[Cmdlet(VerbsCommon.Set, "LvsRealServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = LocalSet)]
[OutputType(typeof(RealServerResult))]
public sealed partial class SetLvsRealServerCommand : LvsRemoteCmdlet
{
    private const string LocalSet = "Local";
    private const string HostSet = "HostName";
    private const string SessionSet = "Session";
    private const string ConfigSet = "InputObject";

    private static readonly ConnectionSets Sets = new([HostSet, ConfigSet], [HostSet, SessionSet, ConfigSet]);

    private readonly List<string> _vips = [];
    private readonly List<LvsVirtualService> _services = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = LocalSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = HostSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SessionSet)]
    [AllowEmptyCollection]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[] VirtualIP { get; set; } = [];

    /// <summary>Virtual services from Import-LvsConfig: each real server gets the VIP of every DR service it serves.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ConfigSet)]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = HostSet)]
    [Alias("ComputerName")]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = SessionSet)]
    [ValidateNotNullOrEmpty]
    public PSSession[] Session { get; set; } = [];

    /// <summary>
    /// Arptables or Nftables (VIPs on the interface, rules per VIP) or Sysctl (VIPs on lo as /32, arp_ignore and
    /// arp_announce); given explicitly, VIPs that use another method are converted. IPv6 VIPs go on lo as /128
    /// whatever the method (neighbour discovery never answers for them there). The same on every transport.
    /// </summary>
    [Parameter]
    public ArpMethod Method { get; set; } = ArpMethod.Arptables;

    /// <summary>Where the sysctl method records the values it replaces (New-LvsVip -SysctlStatePath); on each host when remote.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SysctlStatePath { get; set; }

    /// <summary>Where the VIPs go; the interface of the default route when not given.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.InterfaceNameCompleter))]
    public string? InterfaceName { get; set; }

    /// <summary>
    /// Takes over listed VIPs that are configured but that LvsDirect did not create (by hand, by another tool):
    /// they are recorded as managed and their rules in the built-in chains become LvsDirect's. Without it such a
    /// VIP fails the host (NotManaged) before anything changes there.
    /// </summary>
    [Parameter]
    public SwitchParameter Adopt { get; set; }

    /// <summary>Also make it survive a reboot: Save-ArpSuppression and Export-RcLocal after the change.</summary>
    [Parameter]
    public SwitchParameter Persist { get; set; }

    /// <summary>With -Persist: the rc.local to write (Export-RcLocal -Path); on each host when remote.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RcLocalPath { get; set; }

    /// <summary>
    /// With -Persist: where the VIPs are kept. Auto (the default) uses the network stack that manages the VIPs'
    /// interfaces (Save-LvsVip -Target Auto) when one is found, else rc.local; RcLocal and Systemd are
    /// Export-RcLocal's targets; Networkd, Netplan, NetworkManager and Ifupdown are Save-LvsVip's.
    /// </summary>
    [Parameter]
    public PersistTarget PersistTarget { get; set; } = PersistTarget.Auto;

    /// <summary>With -Persist and a network stack: the root of its configuration (Save-LvsVip -Path); on each host when remote.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NetworkConfigPath { get; set; }

    /// <summary>With -Persist: the file the ARP rules are saved to (Save-ArpSuppression -Path).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ArpRulesPath { get; set; }

    /// <summary>With -Persist and -Method Nftables: the nftables configuration that includes the table file (Save-ArpSuppression -ConfigPath).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NftConfigPath { get; set; }

    private protected override ConnectionSets ConnectionSets => Sets;

    protected override void ProcessRecord() => Guard(() =>
    {
        if (ParameterSetName == ConfigSet)
        {
            _services.AddRange(InputObject.Where(o => o is not null).Select(ToService));
        }
        else
        {
            _vips.AddRange(VirtualIP.Where(v => !string.IsNullOrWhiteSpace(v)));
        }
    });

    protected override void EndProcessing() => Guard(() =>
    {
        if (PersistTarget is not (PersistTarget.Auto or PersistTarget.RcLocal or PersistTarget.Systemd) && Transport == LvsTransport.Ssh && ParameterSetName is HostSet or ConfigSet)
        {
            throw new LvsException(LvsErrorKind.InvalidArgument,
                $"Set-LvsRealServer -Transport Ssh persists to rc.local or LvsDirect's systemd unit only; for -PersistTarget {PersistTarget}, use -Transport PowerShell (the default), which runs Set-LvsRealServer on each host.", PersistTarget.ToString());
        }

        // Validated here, before any host is contacted, so bad input changes nothing anywhere.
        foreach (var v in _vips)
        {
            VipValidation.RequireClass(InputValidation.ParseVipCidr(v).Address);
        }

        if (InterfaceName is not null)
        {
            InputValidation.ValidateInterfaceName(InterfaceName);
        }

        switch (ParameterSetName)
        {
            case LocalSet:
                WriteObject(RunLocal(_vips));
                break;
            case HostSet when Transport == LvsTransport.Ssh:
                RunAgentless(HostName.Distinct(StringComparer.OrdinalIgnoreCase).Select(h => (h, (IReadOnlyList<string>)_vips)).ToList());
                break;
            case HostSet:
                RunRemote(HostName.Distinct(StringComparer.OrdinalIgnoreCase).Select(h => (Connection.RemoteTarget(h), (IReadOnlyList<string>)_vips)).ToList());
                break;
            case SessionSet:
                RunRemote(Session.Select(s => (RemoteTarget.ForSession(s), (IReadOnlyList<string>)_vips)).ToList());
                break;
            default:
                var (assignments, skipped) = RealServerPool.GroupByRealServer(_services);
                foreach (var s in skipped)
                {
                    WriteWarning($"Skipped {s.Service} ({s.Service.SourceFile} line {s.Service.SourceLine}): {s.Why}.");
                }

                foreach (var vip in assignments.SelectMany(a => a.VirtualIPs))
                {
                    VipValidation.RequireClass(vip);
                }

                if (Transport == LvsTransport.Ssh)
                {
                    RunAgentless(assignments.Select(a => (a.Address.ToString(), (IReadOnlyList<string>)a.VirtualIPs.Select(v => v.ToString()).ToList())).ToList());
                    break;
                }

                RunRemote(assignments.Select(a => (Connection.RemoteTarget(a.Address.ToString()), (IReadOnlyList<string>)a.VirtualIPs.Select(v => v.ToString()).ToList())).ToList());
                break;
        }
    });

    private RealServerResult RunLocal(IReadOnlyList<string> vipTexts)
    {
        var watch = Stopwatch.StartNew();
        DemandRoot();
        var vips = vipTexts.Select(v => InputValidation.ParseVipCidr(v)).Distinct().ToList();
        var whatIf = RemoteCmdlet.IsWhatIf(this);
        var statePath = SysctlStatePathOrDefault(SysctlStatePath);
        var (changes, commands, rejected, adopted) = WithHostLock(() =>
        {
            // Every method's state is read where its tool is installed: a VIP managed another way is converted
            // or, when not listed, removed. The chosen method's own tool is required.
            var (state, ownership) = ReadStateAndOwnership(ReadEveryMethod, RcLocalPath is null ? null : GetUnresolvedProviderPathFromPSPath(RcLocalPath));
            var planned = RealServerPlanner.Create(state, ownership, vips, InterfaceName, Method, SysctlStateFile.Load(statePath),
                convert: MyInvocation.BoundParameters.ContainsKey(nameof(Method)), adopt: Adopt.IsPresent);
            var plan = planned.Plan;
            WriteChanges(plan.Changes);

            // Desired state is one unit, as over -Transport Ssh: a refused VIP means no step runs on this host.
            if (plan.Rejected.Count > 0)
            {
                plan.Rejected.ToList().ForEach(WriteLvsError);
                return (planned.Changes, plan.Steps.Select(s => s.Command.ToDisplayString()).ToList(),
                    plan.Rejected.Select(r => (r.Message, r.ErrorId)).ToList(), (IReadOnlyList<IPAddress>)[]);
            }

            var rejectedText = new List<(string Message, string ErrorId)>();
            var complete = ConfirmAdoption(planned.Adopted) && ExecuteOwnedPlan(plan, statePath, ownership, state, planned.Recorded, planned.Forgotten);
            if (!complete && !whatIf)
            {
                rejectedText.Add(("Not every step was confirmed, so the host is only partly configured.", nameof(LvsErrorKind.InvalidArgument)));
            }

            return (planned.Changes, plan.Steps.Select(s => s.Command.ToDisplayString()).ToList(), rejectedText, planned.Adopted);
        });

        var persistenceChanged = false;
        var errors = new List<ErrorRecord>();
        if (Persist.IsPresent && rejected.Count == 0)
        {
            persistenceChanged = PersistLocal(errors);
        }

        var failure = rejected.Select(r => r.Message).Concat(errors.Select(e => e.Exception.Message)).ToList();
        return new RealServerResult
        {
            ComputerName = Dns.GetHostName(),
            Status = failure.Count > 0 ? RealServerStatus.Failed : RealServerPool.StatusOf(changes, persistenceChanged, whatIf, adopted.Count > 0),
            Method = Method,
            Changes = changes,
            Adopted = adopted,
            PersistenceChanged = persistenceChanged,
            Commands = commands,
            Duration = watch.Elapsed,
            Error = failure.Count > 0 ? string.Join(" ", failure) : null,
            ErrorId = failure.Count > 0 ? (rejected.Select(r => r.ErrorId).FirstOrDefault() ?? errors.First().FullyQualifiedErrorId.Split(',')[0]) : null,
        };
    }

    /// <summary>
    /// Every method's state, read where its tool is installed: a VIP managed another way is converted or, when
    /// not listed, removed. The chosen method's own tool is required.
    /// </summary>
    private HostState ReadEveryMethod() => new HostInspector(Runner).Read(
        Method == ArpMethod.Arptables || Runner.Locate("arptables") is not null,
        CancellationToken,
        includeSysctls: true,
        includeNft: Method == ArpMethod.Nftables || Runner.Locate("nft") is not null);

    /// <summary>
    /// -Persist here (and on each host over remoting): the method's saved rules or settings and the rc.local
    /// block, planned from the state after the change, under the host lock. A target that fails is an error of
    /// its own; the others are still written. Returns whether a file was rewritten.
    /// </summary>
    private bool PersistLocal(List<ErrorRecord> errors) => WithHostLock(() =>
    {
        var rcLocal = RcLocalPath is null ? null : GetUnresolvedProviderPathFromPSPath(RcLocalPath);
        var state = ReadEveryMethod();
        var redirects = Runner.Locate("iptables") is null ? [] : new HostInspector(Runner).ReadRedirects(CancellationToken);
        var methodFile = ArpRulesPath is null ? null : GetUnresolvedProviderPathFromPSPath(ArpRulesPath);
        var managed = Core.Planning.VipListing.List(state, all: false, ReadOwnership(rcLocal)).ToList();
        // The nftables method's table file is written by this plan before rc.local, so the block can load it.
        var input = PersistenceInput.For(state, managed, redirects, NftBootFile(methodFile, LocalHost));
        var changed = false;
        var nftConfig = NftConfigPath is null ? null : GetUnresolvedProviderPathFromPSPath(NftConfigPath);
        foreach (var target in PersistenceTargets(methodFile, nftConfig, VipTarget(rcLocal, state, managed)))
        {
            try
            {
                var item = target.Plan(input, LocalHost);
                changed |= PersistenceRun.Apply(this, Runner, item, "Persist", out _, CancellationToken) && item.Changed;
                WriteVerbose($"{item.Path} {(item.Changed ? "rewritten" : "unchanged")}");
            }
            catch (LvsException ex)
            {
                var record = ToErrorRecord(ex);
                errors.Add(record);
                WriteError(record);
            }
        }

        return changed;
    });

    /// <summary>
    /// What -Persist keeps, on every transport: the method's own file (saved arptables rules where the
    /// arptables service loads them, sysctl.d, or the nftables table; -ArpRulesPath names it), then the target
    /// that brings the VIPs up with every REDIRECT rule and the sysctls (<see cref="VipTarget"/>; over ssh the
    /// rc.local block); <paramref name="nftConfig"/> includes the nftables table file (the host's configuration when null). After a switch away from the sysctl method, its sysctl.d file at the default path goes
    /// (when LvsDirect wrote it and no VIP on lo needs it), so the next boot does not raise the sysctls again.
    /// </summary>
    private IReadOnlyList<IPersistenceTarget> PersistenceTargets(string? methodFile, string? nftConfig, IPersistenceTarget vips) =>
    [
        Method switch
        {
            ArpMethod.Sysctl => new SysctlConfTarget(methodFile),
            ArpMethod.Nftables => new NftTarget(methodFile, nftConfig, manageService: methodFile is null && nftConfig is null),
            _ => new SavedArpRulesTarget(methodFile),
        },
        .. Method == ArpMethod.Sysctl ? Array.Empty<IPersistenceTarget>() : [new SysctlConfTarget(null, cleanupOnly: true)],
        vips,
    ];

    /// <summary>
    /// The nftables table file the boot block loads before the nftables method's VIPs: the one this plan writes,
    /// or, with another method, LvsDirect's file at the default path when the host has it.
    /// </summary>
    private string? NftBootFile(string? methodFile, IPersistenceHost host) =>
        Method == ArpMethod.Nftables ? methodFile ?? NftConf.DefaultPath
            : host.Exists(NftConf.DefaultPath) ? NftConf.DefaultPath : null;

    /// <summary>
    /// Where -PersistTarget keeps the VIPs on this host: the network stack's own configuration (Save-LvsVip's
    /// plan), the systemd unit, or the rc.local block.
    /// </summary>
    private IPersistenceTarget VipTarget(string? rcLocal, HostState state, IEnumerable<LvsVip> managed)
    {
        if (NativePersistTarget(state) is { } native)
        {
            var root = NetworkConfigPath is null ? "/" : GetUnresolvedProviderPathFromPSPath(NetworkConfigPath);
            var vips = managed.Select(v => new NativeVip(v.Address, v.PrefixLength, v.InterfaceName, v.Label, v.Method)).ToList();
            var networkManager = NetworkConfigPath is null ? NativeConfigFiles.ReadNetworkManagerVersion(Runner, CancellationToken) : null;
            return new NativeVipTarget(native, root, SavedRulesBelowRoot() ?? SavedArpRulesTarget.DefaultPath, vips, networkManager);
        }

        return BootTarget(rcLocal, RcLocal.DefaultPath());
    }

    /// <summary>
    /// The boot file that keeps the VIPs on every transport: LvsDirect's systemd unit (-PersistTarget Systemd;
    /// -RcLocalPath then names the unit file, which is not enabled) or the rc.local block.
    /// </summary>
    private IPersistenceTarget BootTarget(string? given, string rcLocalDefault) =>
        PersistTarget == PersistTarget.Systemd
            ? new SystemdUnitTarget(given ?? SystemdUnit.DefaultPath, manageService: given is null)
            : new RcLocalTarget(given ?? rcLocalDefault);

    /// <summary>
    /// -ArpRulesPath as Save-LvsVip checks it: the path the booted host sees, so below -NetworkConfigPath when it
    /// lies there (a root prepared for another host), else as given.
    /// </summary>
    private string? SavedRulesBelowRoot()
    {
        if (ArpRulesPath is null)
        {
            return null;
        }

        var rules = GetUnresolvedProviderPathFromPSPath(ArpRulesPath);
        var root = NetworkConfigPath is null ? null : GetUnresolvedProviderPathFromPSPath(NetworkConfigPath).TrimEnd('/') + "/";
        return root is not null && rules.StartsWith(root, StringComparison.Ordinal) ? rules[(root.Length - 1)..] : rules;
    }

    /// <summary>
    /// The Save-LvsVip target -Persist uses, or null for rc.local (or the unit). Auto goes native only where the
    /// host's configuration describes this network namespace (never in one made with ip netns, which shares the
    /// host's /etc), no rc.local was named, and a stack manages every interface the VIPs use.
    /// </summary>
    private NativeTarget? NativePersistTarget(HostState state)
    {
        if (PersistTarget != PersistTarget.Auto)
        {
            return PersistTargets.Native(PersistTarget);
        }

        if (RcLocalPath is not null || (NetworkConfigPath is null && Scope.Kind == HostScopeKind.Named))
        {
            return null;
        }

        var interfaces = new HashSet<string>(StringComparer.Ordinal) { InterfaceName ?? state.DefaultRoutes.FirstOrDefault()?.InterfaceName ?? "lo" };
        if (Method == ArpMethod.Sysctl)
        {
            interfaces = ["lo"];
        }

        var root = NetworkConfigPath is null ? "/" : GetUnresolvedProviderPathFromPSPath(NetworkConfigPath);
        var files = NativeConfigFiles.Read(root, state.Interfaces.ToDictionary(i => i.Name, i => i.MacAddress), null);
        return PersistTargets.StackManagesAll(files, interfaces) ? NativeTarget.Auto : null;
    }

    private void RunRemote(IReadOnlyList<(RemoteTarget Target, IReadOnlyList<string> Vips)> hosts)
    {
        var whatIf = RemoteCmdlet.IsWhatIf(this);
        var work = new List<RemoteWork>();
        foreach (var (target, vips) in hosts)
        {
            // -WhatIf asks every host what it would change; -Confirm asks here, once per host, before it is contacted.
            if (!whatIf && !ShouldProcess(target.ComputerName, $"Set the LVS-DR real server configuration (VIPs: {(vips.Count == 0 ? "none" : string.Join(", ", vips))})"))
            {
                continue;
            }

            var parameters = new Hashtable
            {
                ["VirtualIP"] = vips.ToArray(),
            };

            // Given explicitly, the method also converts VIPs on each host, as it does here.
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Method)))
            {
                parameters["Method"] = Method.ToString();
            }

            AddIfGiven(parameters, "InterfaceName", InterfaceName);
            AddIfGiven(parameters, "RcLocalPath", RcLocalPath);
            AddIfGiven(parameters, "ArpRulesPath", ArpRulesPath);
            AddIfGiven(parameters, "NftConfigPath", NftConfigPath);
            AddIfGiven(parameters, "SysctlStatePath", SysctlStatePath);
            AddIfGiven(parameters, "NetworkConfigPath", NetworkConfigPath);
            if (MyInvocation.BoundParameters.ContainsKey(nameof(PersistTarget)))
            {
                parameters["PersistTarget"] = PersistTarget.ToString();
            }

            if (Persist.IsPresent)
            {
                parameters["Persist"] = true;
            }

            if (Adopt.IsPresent)
            {
                parameters["Adopt"] = true;
            }

            if (whatIf)
            {
                parameters["WhatIf"] = true;
            }

            if (MyInvocation.BoundParameters.ContainsKey("Verbose"))
            {
                parameters["Verbose"] = true;
            }

            work.Add(new RemoteWork(target, new RemoteInvocation("Set-LvsRealServer", parameters)));
        }

        ForEachRemoteHost(ProgressActivityId + 2, Connection.Runner(), work, r =>
        {
            var result = FromRemote(r);
            if (result.Status == RealServerStatus.Failed)
            {
                WriteHostFailure(HostFailure.FromId(result.ComputerName, result.ErrorId, result.Error), r.Failure);
            }
            else if (result.Status == RealServerStatus.WhatIf)
            {
                ShouldProcess(result.ComputerName, $"Set-LvsRealServer: {Describe(result)}");
            }

            WriteObject(result);
        });
    }

    private static void AddIfGiven(Hashtable parameters, string name, string? value)
    {
        if (value is not null)
        {
            parameters[name] = value;
        }
    }

    private static string Describe(RealServerResult r)
    {
        var parts = r.Adopted.Select(a => $"adopt {a} (record it as managed by LvsDirect)")
            .Concat(r.Changes.Where(c => c.Action != VipAction.Unchanged).Select(c => $"{(c.Action == VipAction.Added ? "add" : "remove")} {c.VirtualIP}"))
            .ToList();
        return string.Join("; ", parts) + (r.Commands.Count > 0 ? $"\n  {string.Join("\n  ", r.Commands)}" : string.Empty);
    }

    /// <summary>The host's own (deserialized) result, named and timed as seen from here.</summary>
    internal static RealServerResult FromRemote(HostRunResult r)
    {
        var remote = r.Output.FirstOrDefault(o => o.Properties["Changes"] is not null && o.Properties["Status"] is not null);
        if (r.Failure is not null || remote is null)
        {
            var failure = HostFailure.FromResult(r) ?? new HostFailure(r.ComputerName, LvsErrorKind.RemoteFailed, "The host returned no result.");
            return new RealServerResult
            {
                ComputerName = r.ComputerName,
                Status = RealServerStatus.Failed,
                Duration = r.Duration,
                ModuleInstalled = r.ModuleInstalled,
                Error = failure.Message,
                ErrorId = failure.ErrorId,
            };
        }

        string? Text(PSObject o, string name) => o.Properties[name]?.Value?.ToString();
        // Remoting serializes to depth 1: the VIP lists arrive as address strings, the per-VIP details do not.
        var changes = new[] { VipAction.Added, VipAction.Removed, VipAction.Unchanged }
            .SelectMany(action => Items(remote.Properties[action.ToString()]?.Value).Select(v => new VipChange
            {
                VirtualIP = IPAddress.Parse(v.ToString()),
                Action = action,
            }))
            .ToList();
        return new RealServerResult
        {
            ComputerName = r.ComputerName,
            Status = Enum.Parse<RealServerStatus>(Text(remote, "Status")!, ignoreCase: true),
            Method = Enum.TryParse<ArpMethod>(Text(remote, "Method"), true, out var m) ? m : ArpMethod.Arptables,
            Changes = changes,
            Adopted = Items(remote.Properties["Adopted"]?.Value).Select(a => IPAddress.Parse(a.ToString())).ToList(),
            PersistenceChanged = remote.Properties["PersistenceChanged"]?.Value is true,
            Commands = Items(remote.Properties["Commands"]?.Value).Select(c => c.ToString()).ToList(),
            ModuleInstalled = r.ModuleInstalled,
            Duration = r.Duration,
            Error = Text(remote, "Error"),
            ErrorId = Text(remote, "ErrorId"),
        };
    }

    private static IEnumerable<PSObject> Items(object? value) =>
        (value is PSObject p ? p.BaseObject : value) is IEnumerable e and not string
            ? e.Cast<object>().Select(PSObject.AsPSObject)
            : [];

    /// <summary>An LvsVirtualService, or an object with its property names (from a file or another host).</summary>
    private static LvsVirtualService ToService(PSObject o)
    {
        if (o.BaseObject is LvsVirtualService s)
        {
            return s;
        }

        string? Text(PSObject x, string name) => x.Properties[name]?.Value?.ToString();
        LvsForwardingMethod Forwarding(PSObject x) =>
            Enum.TryParse<LvsForwardingMethod>(Text(x, "ForwardingMethod"), true, out var f) ? f : LvsForwardingMethod.Direct;
        var address = Text(o, "Address") ?? Text(o, "VirtualIP");
        return new LvsVirtualService
        {
            Address = string.IsNullOrEmpty(address) ? null : InputValidation.ParseVipCidr(address).Address,
            Port = int.TryParse(Text(o, "Port"), out var port) ? port : 0,
            FirewallMark = int.TryParse(Text(o, "FirewallMark"), out var mark) ? mark : null,
            ForwardingMethod = Forwarding(o),
            SourceFile = Text(o, "SourceFile") ?? "(pipeline)",
            SourceLine = int.TryParse(Text(o, "SourceLine"), out var line) ? line : 0,
            RealServers = Items(o.Properties["RealServers"]?.Value).Select(r => new LvsRealServerEntry
            {
                Address = InputValidation.ParseCidr(Text(r, "Address")).Address,
                Port = int.TryParse(Text(r, "Port"), out var p) ? p : 0,
                ForwardingMethod = Forwarding(r),
            }).ToList(),
        };
    }
}
