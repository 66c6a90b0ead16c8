using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;

namespace LvsDirect.Core.Planning;

/// <summary>One VIP New-LvsVip is asked to add, as bound (null: not given).</summary>
public sealed record NewVipRequest(string Address, string? InterfaceName, string? Label, string? Broadcast, string? RealIP, ArpMethod Method);

/// <summary>What adding VIPs comes to on one host: the plan, the VIPs it adopts, and what the host holds once it has run.</summary>
/// <param name="Output">The VIPs as they will be on the host, one per address, without those the plan refused.</param>
/// <param name="Added">The same VIPs as the ownership record keeps them.</param>
/// <param name="Notes">What the caller should be told on the way (-Verbose).</param>
public sealed record VipAdditionPlan(Plan Plan, IReadOnlyList<IPAddress> Adopted, IReadOnlyList<LvsVip> Output, IReadOnlyList<ManagedVip> Added, IReadOnlyList<string> Notes);

/// <summary>
/// New-LvsVip as a use case: requests are checked before any host is read (<see cref="Validate"/>), then planned
/// against one reading of the host and its ownership record (<see cref="Plan"/>), so that a refusal changes nothing.
/// </summary>
public sealed class VipAddition
{
    private readonly List<Parsed> _requests;
    private readonly bool _suppress;

    private VipAddition(List<Parsed> requests, bool suppress)
    {
        _requests = requests;
        _suppress = suppress;
    }

    /// <summary>The requests' addresses, prefixes and broadcasts parsed and checked; <paramref name="suppress"/> false adds VIPs without ARP suppression.</summary>
    public static VipAddition Validate(IEnumerable<NewVipRequest> requests, bool suppress)
    {
        // Loops over a class rather than LINQ over tuples: each generic instantiation over a value type is compiled
        // when first used, which a fresh process pays for on its first command.
        var parsed = new List<Parsed>();
        foreach (var r in requests)
        {
            var (address, prefix) = InputValidation.ParseVipCidr(r.Address);
            parsed.Add(new Parsed(r, address, prefix));
        }

        foreach (var p in parsed.Where(p => p.Request.Broadcast is not null))
        {
            if (IsIPv6(p.Address))
            {
                throw new LvsException(LvsErrorKind.InvalidArgument, $"{p.Address} is an IPv6 address, which has no broadcast address; leave out -Broadcast.", p.Request.Broadcast);
            }

            InputValidation.ParseIPv4(p.Request.Broadcast, "broadcast address");
        }

        foreach (var p in parsed.Where(p => p.Request.Method == ArpMethod.Sysctl && !IsIPv6(p.Address) && p.Prefix != 32))
        {
            // Anything wider on lo makes the whole subnet local to this host (SPEC 5).
            throw new LvsException(LvsErrorKind.InvalidPrefix,
                $"'{p.Request.Address}': the sysctl method puts the VIP on lo, where it must be a /32; a wider prefix would make the whole subnet local to this host.",
                p.Request.Address);
        }

        return new VipAddition(parsed, suppress);
    }

    /// <summary>Some VIP uses the sysctl method, whose record of replaced values the plan needs.</summary>
    public bool UsesSysctls => _requests.Any(r => r.Request.Method == ArpMethod.Sysctl && !IsIPv6(r.Address));

    /// <summary>The arptables rules must be read.</summary>
    public bool ReadsArpRules => _suppress && _requests.Any(r => r.Request.Method == ArpMethod.Arptables && !IsIPv6(r.Address));

    /// <summary>The ARP sysctls must be read.</summary>
    public bool ReadsSysctls => _suppress && UsesSysctls;

    /// <summary>LvsDirect's nftables table must be read.</summary>
    public bool ReadsNft => _suppress && _requests.Any(r => r.Request.Method == ArpMethod.Nftables && !IsIPv6(r.Address));

    /// <summary>
    /// The plan against <paramref name="state"/>; a VIP that is configured but not LvsDirect's is refused
    /// (NotManaged) unless <paramref name="adopt"/>. <paramref name="sysctlRecords"/> are the sysctl method's record.
    /// </summary>
    public VipAdditionPlan Plan(HostState state, Ownership ownership, bool adopt, IReadOnlyList<SysctlRecord> sysctlRecords)
    {
        var adopted = ownership.RequireManaged(state, _requests.Select(r => r.Address), adopt, "New-LvsVip");
        var desired = new DesiredChange { SysctlRecords = sysctlRecords };
        ownership.MarkBuiltinRules(desired, adopted);
        var notes = new List<string>();
        var output = new List<LvsVip>();
        foreach (var p in _requests)
        {
            var (r, address, prefix) = (p.Request, p.Address, p.Prefix);
            // An IPv6 VIP always goes on lo, where neighbour discovery never answers for it: no rules, no sysctls.
            var ipv6 = IsIPv6(address);
            var onLo = r.Method == ArpMethod.Sysctl || ipv6;
            if (ipv6 && r.InterfaceName is not null && r.InterfaceName != HostState.LoopbackInterface)
            {
                notes.Add($"{address} is an IPv6 VIP: it goes on lo, not on {r.InterfaceName}, so that this host never answers neighbour solicitations for it.");
            }

            // With the sysctl method the VIP always goes on lo; -InterfaceName names the interface facing the
            // director, whose ARP settings are raised (a piped "lo" from Get-LvsVip means "the default").
            var iface = Resolve.Interface(state, onLo && r.InterfaceName == HostState.LoopbackInterface ? null : r.InterfaceName);
            var vipInterface = onLo ? state.RequireInterface(HostState.LoopbackInterface) : iface;
            var label = r.Label is null ? null : InputValidation.ValidateLabel(r.Label, vipInterface.Name);
            var broadcast = r.Broadcast is null ? null : InputValidation.ParseIPv4(r.Broadcast, "broadcast address");
            var suppression = _suppress && !onLo ? Resolve.Suppression(state, address, iface.Name, r.RealIP) : null;
            var realIp = suppression?.RealIP;
            if (suppression is not null)
            {
                (r.Method == ArpMethod.Nftables ? desired.EnsureNftSuppression : desired.EnsureSuppression).Add(suppression);
            }

            if (onLo && !ipv6 && _suppress)
            {
                desired.EnsureSysctlSuppression.Add(new SysctlSuppressionRequest(address, iface.Name));
            }

            var suppressed = realIp is not null || (onLo && _suppress) || ipv6;
            desired.EnsureVips.Add(new VipRequest(address, prefix, vipInterface.Name, label, broadcast));
            output.Add(new LvsVip
            {
                Address = address,
                PrefixLength = prefix,
                InterfaceName = vipInterface.Name,
                Label = label ?? state.FindAddressOn(address, vipInterface.Name)?.AliasLabel,
                Broadcast = broadcast,
                ArpSuppression = suppressed ? SuppressionState.Complete : state.SuppressionFor(address),
                RealIP = realIp,
                IsVip = suppressed,
                Method = ipv6 ? null : suppressed ? r.Method : state.MethodFor(address),
                Managed = true,
            });
        }

        var plan = Planner.Create(state, desired);

        // The same VIP asked for twice in the same way is one VIP on the host, and one object.
        var accepted = new List<LvsVip>(output.Count);
        var added = new List<ManagedVip>(output.Count);
        var seen = new HashSet<IPAddress>(output.Count);
        foreach (var o in output)
        {
            if (!plan.Refused.Contains(o.Address) && seen.Add(o.Address))
            {
                accepted.Add(o);
                added.Add(new ManagedVip(o.Address, o.PrefixLength, o.InterfaceName, o.Label));
            }
        }

        return new VipAdditionPlan(plan, adopted, accepted, added, notes);
    }

    private static bool IsIPv6(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6;

    private sealed record Parsed(NewVipRequest Request, IPAddress Address, int Prefix);
}
