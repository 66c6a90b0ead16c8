using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>Removes VIPs: the address first, then (unless -KeepArpSuppression) its suppression rules.</summary>
[Cmdlet(VerbsCommon.Remove, "LvsVip", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LvsVip))]
public sealed class RemoveLvsVipCommand : LvsCmdlet
{
    private readonly List<(string Address, string? InterfaceName)> _requests = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("VirtualIP")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[] Address { get; set; } = [];

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completers.InterfaceNameCompleter))]
    public string? InterfaceName { get; set; }

    [Parameter]
    public SwitchParameter KeepArpSuppression { get; set; }

    /// <summary>Allows removing an address the interface uses as its own (its primary IPv4 address).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>
    /// Removes a VIP that LvsDirect did not create (set up by hand or by another tool), with its rules in the
    /// built-in chains, by adopting it first. Without it such a VIP is refused (NotManaged).
    /// </summary>
    [Parameter]
    public SwitchParameter Adopt { get; set; }

    /// <summary>Where the sysctl method recorded the values it replaced; they are restored when the last VIP leaves lo.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SysctlStatePath { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var a in Address)
        {
            _requests.Add((a, Optional(InterfaceName)));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var parsed = _requests.Select(r => (r.InterfaceName, Cidr: InputValidation.ParseVipCidr(r.Address, 0))).ToList();
        foreach (var r in parsed.Where(r => r.InterfaceName is not null))
        {
            InputValidation.ValidateInterfaceName(r.InterfaceName!);
        }

        var statePath = SysctlStatePathOrDefault(SysctlStatePath);
        var removed = WithHostLock(() =>
        {
            var state = ReadSuppressionState();
            var desired = new DesiredChange { SysctlRecords = SysctlStateFile.Load(statePath) };
            var ownership = ReadOwnership();

            // An interface's own address gets its own refusal below; every other address must be LvsDirect's.
            var primaries = state.Interfaces.Select(i => i.PrimaryIPv4).OfType<IPAddress>().ToHashSet();
            bool RefusedAsPrimary(IPAddress a) => primaries.Contains(a) && !Force.IsPresent && state.SuppressionFor(a) == SuppressionState.None;
            var adopted = ownership.RequireManaged(state, parsed.Select(p => p.Cidr.Address).Where(a => !RefusedAsPrimary(a)), Adopt.IsPresent, "Remove-LvsVip");
            ownership.MarkBuiltinRules(desired, adopted);
            var forgotten = new List<IPAddress>();
            var output = new List<LvsVip>();
            foreach (var (ifaceName, (address, prefix)) in parsed)
            {
                if (ifaceName is not null)
                {
                    state.RequireInterface(ifaceName);
                }

                var matches = state.FindAddress(address)
                    .Where(a => (ifaceName is null || a.InterfaceName == ifaceName) && (prefix == 0 || a.PrefixLength == prefix))
                    .ToList();
                var primary = matches.FirstOrDefault(a => address.Equals(state.FindInterface(a.InterfaceName)?.PrimaryIPv4));
                if (primary is not null && !Force.IsPresent && state.SuppressionFor(address) == SuppressionState.None)
                {
                    WriteLvsError(new LvsException(LvsErrorKind.InvalidArgument,
                        $"{address} is the primary address of {primary.InterfaceName}, not a VIP; removing it would cut the host off. Use -Force if you mean it.",
                        address.ToString()));
                    continue;
                }

                if (matches.Count == 0)
                {
                    WriteVerbose($"{address} is not configured on {ifaceName ?? "any interface"}.");
                }

                desired.RemoveAddresses.AddRange(matches);
                var remaining = state.FindAddress(address).Except(matches).ToList();
                if (remaining.Count > 0 && !KeepArpSuppression.IsPresent)
                {
                    // Suppression is per address, not per interface: the copy that stays still needs it.
                    WriteWarning($"{address} stays configured on {remaining[0].InterfaceName}, so its ARP suppression is kept.");
                }
                else if (!KeepArpSuppression.IsPresent)
                {
                    desired.RemoveSuppression.Add(address);
                    desired.RestoreSysctls |= matches.Any(HostState.IsLoopbackVip);
                }

                if (remaining.Count == 0)
                {
                    forgotten.Add(address);
                }

                output.AddRange(matches.Select(m => new LvsVip
                {
                    Address = m.Address,
                    PrefixLength = m.PrefixLength,
                    InterfaceName = m.InterfaceName,
                    Label = m.AliasLabel,
                    Broadcast = m.Broadcast,
                    ArpSuppression = KeepArpSuppression.IsPresent ? state.SuppressionFor(m.Address) : SuppressionState.None,
                    RealIP = GetLvsVipCommand.RealIPOf(state, m.Address),
                    IsVip = false,
                    Method = KeepArpSuppression.IsPresent ? state.MethodFor(m.Address) : null,
                }));
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

            return ExecuteOwnedPlan(plan, statePath, ownership, state, [], forgotten) ? output : [];
        });

        if (PassThru.IsPresent)
        {
            WriteObject(removed, enumerateCollection: true);
        }
    });
}
