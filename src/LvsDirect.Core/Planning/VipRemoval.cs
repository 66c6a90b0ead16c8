using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;

namespace LvsDirect.Core.Planning;

/// <summary>One VIP Remove-LvsVip is asked to remove, as bound: the address (with or without a prefix), -InterfaceName and -PrefixLength.</summary>
public sealed record RemoveVipRequest(string Address, string? InterfaceName, int? PrefixLength);

/// <summary>What removing VIPs comes to on one host.</summary>
/// <param name="Output">The addresses the plan removes, as they were, without those it refused.</param>
/// <param name="Forgotten">The VIPs the ownership record forgets: no copy of them is left on the host.</param>
/// <param name="Errors">Requests refused one by one (the others go on).</param>
/// <param name="Warnings">What the caller should be warned about.</param>
/// <param name="Notes">What the caller should be told on the way (-Verbose).</param>
public sealed record VipRemovalPlan(
    Plan Plan,
    IReadOnlyList<IPAddress> Adopted,
    IReadOnlyList<LvsVip> Output,
    IReadOnlyList<IPAddress> Forgotten,
    IReadOnlyList<LvsException> Errors,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> Notes);

/// <summary>
/// Remove-LvsVip as a use case: requests checked before any host is read (<see cref="Validate"/>), then planned
/// against one reading (<see cref="Plan"/>): the address first, then, unless kept, its suppression.
/// </summary>
public sealed class VipRemoval
{
    private readonly IReadOnlyList<(string? InterfaceName, IPAddress Address, int Prefix)> _requests;

    private VipRemoval(IReadOnlyList<(string?, IPAddress, int)> requests) => _requests = requests;

    public static VipRemoval Validate(IEnumerable<RemoveVipRequest> requests)
    {
        var parsed = requests.Select(r => (r.InterfaceName, Cidr: VipCidr(r.Address, r.PrefixLength))).ToList();
        foreach (var r in parsed.Where(r => r.InterfaceName is not null))
        {
            InputValidation.ValidateInterfaceName(r.InterfaceName!);
        }

        return new VipRemoval(parsed.Select(p => (p.InterfaceName, p.Cidr.Address, p.Cidr.PrefixLength)).ToList());
    }

    /// <summary>
    /// The plan against <paramref name="state"/>; a VIP that is configured but not LvsDirect's is refused
    /// (NotManaged) unless <paramref name="adopt"/>. The host's own addresses are left to the planner's refusal.
    /// </summary>
    public VipRemovalPlan Plan(HostState state, Ownership ownership, bool keepSuppression, bool adopt, IReadOnlyList<SysctlRecord> sysctlRecords)
    {
        var desired = new DesiredChange { SysctlRecords = sysctlRecords };
        var adopted = ownership.RequireManaged(state, _requests.Select(p => p.Address), adopt, "Remove-LvsVip");
        ownership.MarkBuiltinRules(desired, adopted);
        var forgotten = new List<IPAddress>();
        var output = new List<LvsVip>();
        var errors = new List<LvsException>();
        var warnings = new List<string>();
        var notes = new List<string>();
        foreach (var (ifaceName, address, prefix) in _requests)
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
                    errors.Add(new LvsException(LvsErrorKind.InvalidPrefix,
                        $"{address} is configured on {other.InterfaceName} as {other.Cidr}, not as /{prefix}; nothing removed. To remove that address, give -Address {other.Cidr}.",
                        address.ToString()));
                    continue;
                }
            }

            if (matches.Count == 0)
            {
                notes.Add($"{address}/{prefix} is not configured on {ifaceName ?? "any interface"}.");
            }

            desired.RemoveAddresses.AddRange(matches);
            var remaining = state.FindAddress(address).Except(matches).ToList();
            if (remaining.Count > 0 && !keepSuppression)
            {
                // Suppression is per address, not per interface: the copy that stays still needs it.
                warnings.Add($"{address} stays configured on {remaining[0].InterfaceName}, so its ARP suppression is kept.");
            }
            else if (!keepSuppression)
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
                ArpSuppression = keepSuppression ? state.SuppressionFor(m.Address) : SuppressionState.None,
                RealIP = VipListing.RealIPOf(state, m.Address),
                IsVip = false,
                Method = keepSuppression ? state.MethodFor(m.Address) : null,
            }));
        }

        var plan = Planner.Create(state, desired);
        return new VipRemovalPlan(plan, adopted, output.Where(o => !plan.Refused.Contains(o.Address)).ToList(), forgotten, errors, warnings, notes);
    }

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
