using System.Management.Automation;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>
/// Adds VIPs to an interface, with their ARP suppression put in place first. All addresses of one call (and
/// of a whole pipeline) are applied as one batch in EndProcessing.
/// </summary>
[Cmdlet(VerbsCommon.New, "LvsVip", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LvsVip))]
public sealed class NewLvsVipCommand : LvsCmdlet
{
    private readonly List<(string Address, string? InterfaceName, string? Label, string? Broadcast, string? RealIP, ArpMethod Method)> _requests = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("VirtualIP")]
    [ValidateNotNullOrEmpty]
    public string[] Address { get; set; } = [];

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completers.InterfaceNameCompleter))]
    public string? InterfaceName { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? Label { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? Broadcast { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? RealIP { get; set; }

    /// <summary>On unless -ArpSuppression:$false: a VIP without suppression steals the director's traffic.</summary>
    [Parameter]
    public SwitchParameter ArpSuppression { get; set; } = new(true);

    /// <summary>
    /// Arptables (the VIP on the interface, two rules per VIP) or Sysctl (the VIP on lo as /32, arp_ignore and
    /// arp_announce on all and on -InterfaceName, which then names the interface facing the director).
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public ArpMethod? Method { get; set; }

    /// <summary>
    /// Takes over a VIP that is already configured but that LvsDirect did not create (set up by hand or by
    /// another tool): it is recorded as managed, and its rules in the built-in chains become LvsDirect's.
    /// Without it such a VIP is refused (NotManaged).
    /// </summary>
    [Parameter]
    public SwitchParameter Adopt { get; set; }

    /// <summary>Where the sysctl method records the values it replaces (default: see about_LvsDirect).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SysctlStatePath { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var a in Address)
        {
            _requests.Add((a, Optional(InterfaceName), Optional(Label), Optional(Broadcast), Optional(RealIP), Method ?? ArpMethod.Arptables));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var parsed = _requests.Select(r => (Request: r, Cidr: InputValidation.ParseVipCidr(r.Address))).ToList();
        foreach (var p in parsed.Where(p => p.Request.Broadcast is not null))
        {
            if (IsIPv6(p.Cidr.Address))
            {
                throw new LvsException(LvsErrorKind.InvalidArgument, $"{p.Cidr.Address} is an IPv6 address, which has no broadcast address; leave out -Broadcast.", p.Request.Broadcast);
            }

            InputValidation.ParseIPv4(p.Request.Broadcast, "broadcast address");
        }

        foreach (var p in parsed.Where(p => p.Request.Method == ArpMethod.Sysctl && !IsIPv6(p.Cidr.Address) && p.Cidr.PrefixLength != 32))
        {
            // Anything wider on lo makes the whole subnet local to this host (SPEC 5).
            throw new LvsException(LvsErrorKind.InvalidPrefix,
                $"'{p.Request.Address}': the sysctl method puts the VIP on lo, where it must be a /32; a wider prefix would make the whole subnet local to this host.",
                p.Request.Address);
        }

        var sysctl = parsed.Any(p => p.Request.Method == ArpMethod.Sysctl && !IsIPv6(p.Cidr.Address));
        var statePath = sysctl ? SysctlStatePathOrDefault(SysctlStatePath) : null;
        var results = WithHostLock(() =>
        {
            var state = new Core.Host.HostInspector(Runner).Read(
                ArpSuppression.IsPresent && parsed.Any(p => p.Request.Method == ArpMethod.Arptables && !IsIPv6(p.Cidr.Address)),
                CancellationToken,
                includeSysctls: sysctl && ArpSuppression.IsPresent,
                includeNft: ArpSuppression.IsPresent && parsed.Any(p => p.Request.Method == ArpMethod.Nftables && !IsIPv6(p.Cidr.Address)));
            var ownership = ReadOwnership();
            var adopted = ownership.RequireManaged(state, parsed.Select(p => p.Cidr.Address), Adopt.IsPresent, "New-LvsVip");
            var desired = new DesiredChange();
            ownership.MarkBuiltinRules(desired, adopted);
            if (statePath is not null)
            {
                desired.SysctlRecords = SysctlStateFile.Load(statePath);
            }

            var output = new List<LvsVip>();
            foreach (var (r, (address, prefix)) in parsed)
            {
                // An IPv6 VIP always goes on lo, where neighbour discovery never answers for it: no rules, no sysctls.
                var ipv6 = IsIPv6(address);
                var onLo = r.Method == ArpMethod.Sysctl || ipv6;
                if (ipv6 && r.InterfaceName is not null && r.InterfaceName != HostState.LoopbackInterface)
                {
                    WriteVerbose($"{address} is an IPv6 VIP: it goes on lo, not on {r.InterfaceName}, so that this host never answers neighbour solicitations for it.");
                }

                // With the sysctl method the VIP always goes on lo; -InterfaceName names the interface facing the
                // director, whose ARP settings are raised (a piped "lo" from Get-LvsVip means "the default").
                var iface = Resolve.Interface(state, onLo && r.InterfaceName == HostState.LoopbackInterface ? null : r.InterfaceName);
                var vipInterface = onLo ? state.RequireInterface(HostState.LoopbackInterface) : iface;
                var label = r.Label is null ? null : InputValidation.ValidateLabel(r.Label, vipInterface.Name);
                var broadcast = r.Broadcast is null ? null : InputValidation.ParseIPv4(r.Broadcast, "broadcast address");
                var suppression = ArpSuppression.IsPresent && !onLo ? Resolve.Suppression(state, address, iface.Name, r.RealIP) : null;
                var realIp = suppression?.RealIP;
                if (suppression is not null)
                {
                    (r.Method == ArpMethod.Nftables ? desired.EnsureNftSuppression : desired.EnsureSuppression).Add(suppression);
                }

                if (onLo && !ipv6 && ArpSuppression.IsPresent)
                {
                    desired.EnsureSysctlSuppression.Add(new SysctlSuppressionRequest(address, iface.Name));
                }

                var suppressed = realIp is not null || (onLo && ArpSuppression.IsPresent) || ipv6;
                desired.EnsureVips.Add(new VipRequest(address, prefix, vipInterface.Name, label, broadcast));
                output.Add(new LvsVip
                {
                    Address = address,
                    PrefixLength = prefix,
                    InterfaceName = vipInterface.Name,
                    Label = label ?? state.FindAddress(address).FirstOrDefault(a => a.InterfaceName == vipInterface.Name)?.AliasLabel,
                    Broadcast = broadcast,
                    ArpSuppression = suppressed ? SuppressionState.Complete : state.SuppressionFor(address),
                    RealIP = realIp,
                    IsVip = suppressed,
                    Method = ipv6 ? null : suppressed ? r.Method : state.MethodFor(address),
                    Managed = true,
                });
            }

            var plan = Planner.Create(state, desired);
            foreach (var c in plan.Changes)
            {
                WriteVerbose($"{c.Subject} {c.Address}: {c.Kind} ({c.Detail})");
            }

            if (!ConfirmAdoption(adopted))
            {
                return [];
            }

            // The same VIP asked for twice in the same way is one VIP on the host, and one object.
            var accepted = output.Where(o => !plan.Refused.Contains(o.Address)).DistinctBy(o => o.Address).ToList();
            var added = accepted.Select(o => new ManagedVip(o.Address, o.PrefixLength, o.InterfaceName, o.Label)).ToList();
            return ExecuteOwnedPlan(plan, statePath, ownership, state, added, []) ? accepted : [];
        });

        foreach (var vip in results)
        {
            WriteObject(vip);
        }
    });

    private static bool IsIPv6(System.Net.IPAddress a) => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
}
