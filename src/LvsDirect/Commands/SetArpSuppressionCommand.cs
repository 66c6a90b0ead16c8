using System.Management.Automation;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>
/// Ensures the two arptables rules for each VIP (an OUT rule to another real IP is replaced), or with -Method
/// Sysctl the ARP sysctls that keep VIPs on lo out of ARP.
/// </summary>
[Cmdlet(VerbsCommon.Set, "ArpSuppression", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ArpSuppressionRule))]
public sealed class SetArpSuppressionCommand : LvsCmdlet
{
    private readonly List<(string Vip, string? InterfaceName, string? RealIP)> _requests = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[] VirtualIP { get; set; } = [];

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? RealIP { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completers.InterfaceNameCompleter))]
    public string? InterfaceName { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Arptables (two rules per VIP) or Sysctl (arp_ignore=1, arp_announce=2 on all and on the facing interface).</summary>
    [Parameter]
    public ArpMethod Method { get; set; } = ArpMethod.Arptables;

    /// <summary>Where the sysctl method records the values it replaces.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SysctlStatePath { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var v in VirtualIP)
        {
            _requests.Add((v, Optional(InterfaceName), Optional(RealIP)));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var parsed = _requests.Select(r => (Request: r, Vip: InputValidation.ParseCidr(r.Vip).Address)).ToList();
        var explicitMethod = MyInvocation.BoundParameters.ContainsKey(nameof(Method));
        var rules = Method == ArpMethod.Sysctl ? SetSysctls(parsed.Select(p => (p.Vip, p.Request.InterfaceName)).ToList()) : WithHostLock(() =>
        {
            var nft = Method == ArpMethod.Nftables;

            // With an explicit -Method, VIPs suppressed the other rule-based way are converted: read that too.
            var convert = explicitMethod && Runner.Locate(nft ? "arptables" : "nft") is not null;
            var state = new Core.Host.HostInspector(Runner).Read(!nft || convert, CancellationToken, includeNft: nft || convert);
            var desired = new DesiredChange();
            var moves = new List<VipMove>();
            foreach (var (r, vip) in parsed)
            {
                // With an explicit -Method, a VIP of the sysctl method (on lo) moves to the facing interface.
                var onLo = explicitMethod ? MethodSwitch.AddressesToMove(state, vip, Method) : [];
                var facing = onLo.Count > 0 ? Resolve.Interface(state, r.InterfaceName == HostState.LoopbackInterface ? null : r.InterfaceName).Name : r.InterfaceName;
                moves.AddRange(onLo.Select(a => new VipMove(a, facing!)).Take(1));
                (nft ? desired.EnsureNftSuppression : desired.EnsureSuppression).Add(Resolve.Suppression(state, vip, facing, r.RealIP));
            }

            // Only the chosen method's half of the state: the old method's rules are no business of this plan.
            var ruleState = nft ? state.WithoutArptables() : state.WithoutNftables();
            var statePath = moves.Count > 0 ? SysctlStatePathOrDefault(SysctlStatePath) : null;
            var plan = moves.Count > 0
                ? MethodSwitch.ToRules(state, ruleState, desired, moves, SysctlStateFile.Load(statePath!))
                : Planner.Create(ruleState, desired);
            if (!ExecutePlan(plan, statePath))
            {
                return [];
            }

            // The plan dropped the VIPs it refused: only the accepted ones hold the new method's suppression now.
            var requested = (nft ? desired.EnsureNftSuppression : desired.EnsureSuppression).DistinctBy(s => s.VirtualIP).ToList();
            if (convert && !ConvertFrom(state, requested.Select(s => s.VirtualIP).ToList(), nft))
            {
                return [];
            }

            return SuppressionListing.Ensured(requested, state, nft);
        });

        if (PassThru.IsPresent)
        {
            WriteObject(rules, enumerateCollection: true);
        }
    });

    /// <summary>
    /// Removes the other rule-based method's suppression of the VIPs, once the chosen method's is in place (the
    /// plan above has run), so at no moment is a VIP without suppression. The two methods live in different
    /// kernel tables, so this plan, made from the same reading, is still exact.
    /// </summary>
    private bool ConvertFrom(HostState state, List<System.Net.IPAddress> vips, bool toNftables)
    {
        var old = toNftables ? state.WithoutNftables() : state.WithoutArptables();
        var desired = new DesiredChange();
        desired.RemoveSuppression.AddRange(vips.Where(v => toNftables
            ? state.InputRulesFor(v).Any() || state.OutputRulesFor(v).Any()
            : state.NftEntryFor(v) is not null));
        if (desired.RemoveSuppression.Count == 0)
        {
            return true;
        }

        WriteVerbose($"Converting {string.Join(", ", desired.RemoveSuppression)} from {(toNftables ? "arptables" : "nftables")}.");
        return ExecutePlan(Planner.Create(old, desired));
    }

    /// <summary>The sysctl method: host-wide settings, so every VIP of the call shares one plan step.</summary>
    private IReadOnlyList<ArpSuppressionRule> SetSysctls(List<(System.Net.IPAddress Vip, string? InterfaceName)> vips)
    {
        if (!string.IsNullOrEmpty(RealIP))
        {
            WriteVerbose("-RealIP is not used by the sysctl method: the kernel picks the source address of outgoing ARP itself (arp_announce=2).");
        }

        var statePath = SysctlStatePathOrDefault(SysctlStatePath);
        return WithHostLock(() =>
        {
            // The rules of both rule-based methods are read too: a VIP they keep out of ARP is converted.
            var state = new HostInspector(Runner).Read(
                Runner.Locate("arptables") is not null, CancellationToken, includeSysctls: true, includeNft: Runner.Locate("nft") is not null);
            var desired = new DesiredChange { SysctlRecords = SysctlStateFile.Load(statePath) };
            var moves = new List<VipMove>();
            foreach (var (vip, interfaceName) in vips)
            {
                // A VIP on the facing interface (a rule-based method's place) moves to lo; the interface it leaves faces the director.
                var elsewhere = MethodSwitch.AddressesToMove(state, vip, ArpMethod.Sysctl);
                moves.AddRange(elsewhere.Select(a => new VipMove(a, HostState.LoopbackInterface)));
                var facing = Resolve.Interface(state, interfaceName == HostState.LoopbackInterface ? null : interfaceName ?? elsewhere.FirstOrDefault()?.InterfaceName);
                desired.EnsureSysctlSuppression.Add(new SysctlSuppressionRequest(vip, facing.Name));
                desired.EnsureSysctlSuppression.AddRange(elsewhere.Where(a => a.InterfaceName != facing.Name).Select(a => new SysctlSuppressionRequest(vip, a.InterfaceName)));
            }

            var plan = MethodSwitch.ToSysctl(state, desired, moves, vips.Select(v => v.Vip));
            WriteChanges(plan.Changes);

            if (!ExecutePlan(plan, statePath))
            {
                return [];
            }

            return SuppressionListing.Ensured(desired.EnsureSysctlSuppression, state);
        });
    }
}
