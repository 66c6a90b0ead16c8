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
    private readonly List<(string Address, string? InterfaceName, int? PrefixLength)> _requests = [];

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

    /// <summary>
    /// The VIP's prefix length when -Address has none (Get-LvsVip's objects bind it); else /32 (/128 for IPv6).
    /// Only an address with exactly this prefix is removed.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 128)]
    public int? PrefixLength { get; set; }

    [Parameter]
    public SwitchParameter KeepArpSuppression { get; set; }

    /// <summary>
    /// Accepted so that existing scripts keep working; it removes nothing more. The host's own addresses (an
    /// interface's primary or subnet address) are never removed, with or without it.
    /// </summary>
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
            _requests.Add((a, Optional(InterfaceName), PrefixLength));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var parsed = _requests.Select(r => (r.InterfaceName, Cidr: VipCidr(r.Address, r.PrefixLength))).ToList();
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

            // The host's own addresses are left to the planner's refusal; every other address must be LvsDirect's.
            var adopted = ownership.RequireManaged(state, parsed.Select(p => p.Cidr.Address), Adopt.IsPresent, "Remove-LvsVip");
            ownership.MarkBuiltinRules(desired, adopted);
            var forgotten = new List<IPAddress>();
            var output = new List<LvsVip>();
            foreach (var (ifaceName, (address, prefix)) in parsed)
            {
                if (ifaceName is not null)
                {
                    state.RequireInterface(ifaceName);
                }

                var onInterface = state.FindAddress(address).Where(a => ifaceName is null || a.InterfaceName == ifaceName).ToList();
                var matches = onInterface.Where(a => a.PrefixLength == prefix).ToList();
                var other = onInterface.FirstOrDefault(a => a.PrefixLength != prefix);
                if (matches.Count == 0 && other is not null)
                {
                    // The host's own addresses are refused by the planner, with the error that says so.
                    if (VipValidation.IsHostAddress(state, other))
                    {
                        matches.Add(other);
                    }
                    else
                    {
                        WriteLvsError(new LvsException(LvsErrorKind.InvalidPrefix,
                            $"{address} is configured on {other.InterfaceName} as {other.Cidr}, not as /{prefix}; nothing removed. To remove that address, give -Address {other.Cidr}.",
                            address.ToString()));
                        continue;
                    }
                }

                if (matches.Count == 0)
                {
                    WriteVerbose($"{address}/{prefix} is not configured on {ifaceName ?? "any interface"}.");
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
                    RealIP = VipListing.RealIPOf(state, m.Address),
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

            return ExecuteOwnedPlan(plan, statePath, ownership, state, [], forgotten) ? output.Where(o => !plan.Refused.Contains(o.Address)).ToList() : [];
        });

        if (PassThru.IsPresent)
        {
            WriteObject(removed, enumerateCollection: true);
        }
    });

    /// <summary>"IP/prefix" as given, else IP with -PrefixLength, else IP as a full-length VIP (/32, /128).</summary>
    private static (IPAddress Address, int PrefixLength) VipCidr(string text, int? prefixLength)
    {
        var (address, prefix) = InputValidation.ParseVipCidr(text);
        if (prefixLength is null || text.Contains('/'))
        {
            if (prefixLength is not null && prefixLength != prefix)
            {
                throw new LvsException(LvsErrorKind.ConflictingRequest, $"-Address {text} and -PrefixLength {prefixLength} name two different prefixes; give one.", text);
            }

            return (address, prefix);
        }

        var full = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        return prefixLength <= full
            ? (address, prefixLength.Value)
            : throw new LvsException(LvsErrorKind.InvalidPrefix, $"-PrefixLength {prefixLength} is longer than an address of {address}'s family (/{full}).", text);
    }
}
