using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;

namespace LvsDirect.Core.Pool;

/// <summary>A real server's desired state turned into a plan, with what it does to each VIP.</summary>
public sealed record RealServerPlan(Plan Plan, IReadOnlyList<IPAddress> Wanted, IReadOnlyList<IPAddress> Removed, IReadOnlyList<VipChange> Changes)
{
    /// <summary>Wanted VIPs that were configured here but not LvsDirect's, taken over with -Adopt.</summary>
    public IReadOnlyList<IPAddress> Adopted { get; init; } = [];

    /// <summary>The wanted VIPs as the ownership record keeps them once the plan has run.</summary>
    public IReadOnlyList<ManagedVip> Recorded { get; init; } = [];

    /// <summary>Managed VIPs not wanted: removed from the host (where present) and forgotten by the record.</summary>
    public IReadOnlyList<IPAddress> Forgotten { get; init; } = [];
}

/// <summary>
/// Set-LvsRealServer's desired state: exactly <c>vips</c>, each with the ARP method given: on the interface given
/// (else where it already is, else the default route's) with arptables rules or LvsDirect's nftables table, or on
/// lo as /32 with the ARP sysctls. Only a method given explicitly (<c>convert</c>) moves a VIP between lo and the
/// facing interface and converts its suppression from another method. VIPs LvsDirect manages there (its
/// <see cref="Ownership"/>) but not listed are removed, whatever method they use. IPv6 VIPs go on lo (as /128 unless
/// given otherwise) with no suppression. Nothing else is touched: a
/// listed VIP that is configured but not LvsDirect's is refused (NotManaged) unless <c>adopt</c>. The same plan whether it runs here, in a PowerShell session on the host, or over the agentless
/// transport.
/// </summary>
/// <remarks>
/// Without a conversion, one plan (addresses removed, rules changed, addresses added). With one, two plans from one reading, run one after the other (as <see cref="MethodSwitch"/> does): first every wanted
/// VIP gets the chosen method's suppression and then its address where that method needs it; only then are
/// addresses taken off where they no longer belong (a VIP changing method, a VIP no longer listed), and after
/// them the suppression that kept those addresses out of ARP (the other method's rules, the unlisted VIPs'
/// rules, the recorded sysctls once no VIP is left on lo). So no prefix of the whole leaves a VIP answering ARP.
/// </remarks>
public static class RealServerPlanner
{
    public static RealServerPlan Create(
        HostState state,
        Ownership ownership,
        IReadOnlyList<(IPAddress Address, int PrefixLength)> vips,
        string? interfaceName,
        ArpMethod method = ArpMethod.Arptables,
        IReadOnlyList<SysctlRecord>? sysctlRecords = null,
        bool convert = false,
        bool adopt = false)
    {
        var records = sysctlRecords ?? [];
        var adopted = ownership.RequireManaged(state, vips.Select(v => v.Address), adopt, "Set-LvsRealServer");
        var ensure = new DesiredChange { SysctlRecords = records };
        ownership.MarkBuiltinRules(ensure, adopted);
        var recorded = new List<ManagedVip>();
        var moves = new List<InterfaceAddress>();
        foreach (var (address, prefix) in vips)
        {
            // An IPv6 VIP goes on lo whatever the method, as New-LvsVip puts it: neighbour discovery never answers
            // for an address on lo, so it needs no rules and no sysctls.
            if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                ensure.EnsureVips.Add(new VipRequest(address, prefix, HostState.LoopbackInterface));
                recorded.Add(new ManagedVip(address, prefix, HostState.LoopbackInterface, state.FindAddressOn(address, HostState.LoopbackInterface)?.AliasLabel));
                continue;
            }

            // Without an interface, a VIP already on some interface (lo, say) stays there unless the method given
            // needs it elsewhere; ARP leaves by the interface facing the network, for a VIP on lo the default route's.
            var elsewhere = convert ? MethodSwitch.AddressesToMove(state, address, method) : [];
            var existing = interfaceName is null && elsewhere.Count == 0 ? state.FindAddress(address).FirstOrDefault() : null;
            var holder = existing is not null ? state.RequireInterface(existing.InterfaceName) : Resolve.Interface(state, interfaceName == HostState.LoopbackInterface ? null : interfaceName);
            var iface = holder.Name == HostState.LoopbackInterface ? state.RequireInterface(state.DefaultInterfaceName) : holder;
            var target = method == ArpMethod.Sysctl ? HostState.LoopbackInterface : holder.Name;
            switch (method)
            {
                case ArpMethod.Sysctl when prefix != 32:
                    throw new LvsException(LvsErrorKind.InvalidPrefix,
                        $"The sysctl method puts {address} on lo, where it must be a /32 (a wider prefix makes the whole subnet local to this host), not /{prefix}.", $"{address}/{prefix}");
                case ArpMethod.Sysctl:
                    ensure.EnsureSysctlSuppression.Add(new SysctlSuppressionRequest(address, iface.Name));
                    break;
                case ArpMethod.Nftables:
                    ensure.EnsureNftSuppression.Add(Resolve.Suppression(state, address, iface.Name, null));
                    break;
                default:
                    ensure.EnsureSuppression.Add(Resolve.Suppression(state, address, iface.Name, null));
                    break;
            }

            if (elsewhere.Count > 0)
            {
                ensure.MovingVips.Add(address);
                moves.AddRange(elsewhere);
            }

            ensure.EnsureVips.Add(new VipRequest(address, prefix, target));
            recorded.Add(new ManagedVip(address, prefix, target, state.FindAddressOn(address, target)?.AliasLabel));
        }

        // The first plan sees only the chosen method's half of the rules: the other half is the second plan's.
        var ruleState = method switch
        {
            ArpMethod.Arptables => state.WithoutNftables(),
            ArpMethod.Nftables => state.WithoutArptables(),
            _ => state,
        };
        var wanted = vips.Select(v => v.Address).Distinct().ToList();
        var wantedSet = wanted.ToHashSet();
        var removed = state.SuppressedAddresses().Concat(state.AllAddresses.Select(a => a.Address)).Distinct()
            .Where(a => ownership.IsManaged(a) && !wantedSet.Contains(a))
            .ToList();
        var forgotten = removed.Concat(ownership.Managed.Where(a => !wantedSet.Contains(a))).Distinct().ToList();
        RealServerPlan Result(Plan p) => new(p, wanted, removed, RealServerPool.Summarize(wanted, removed, p.Changes))
        {
            Adopted = adopted,
            Recorded = recorded,
            Forgotten = forgotten,
        };

        if (!convert)
        {
            foreach (var vip in removed)
            {
                ensure.RemoveAddresses.AddRange(state.FindAddress(vip));
                ensure.RemoveSuppression.Add(vip);
            }

            ensure.RestoreSysctls = method != ArpMethod.Sysctl;
            return Result(Planner.Create(state, ensure));
        }

        var first = Planner.Create(ruleState, ensure);
        var then = new DesiredChange { SysctlRecords = records, RestoreSysctls = method != ArpMethod.Sysctl };
        ownership.MarkBuiltinRules(then, adopted);
        then.RemoveAddresses.AddRange(moves.Where(m => !first.Refused.Contains(m.Address)));
        foreach (var vip in removed)
        {
            then.RemoveAddresses.AddRange(state.FindAddress(vip));
            then.RemoveSuppression.Add(vip);
        }

        // A wanted VIP the other way suppressed loses that suppression once the chosen method holds it.
        foreach (var vip in wanted.Where(v => !first.Refused.Contains(v)))
        {
            var arptables = state.InputRulesFor(vip).Any() || state.OutputRulesFor(vip).Any();
            var nft = state.NftEntryFor(vip) is not null;
            switch (method)
            {
                case ArpMethod.Sysctl when arptables || nft:
                    then.RemoveSuppression.Add(vip);
                    break;
                case ArpMethod.Arptables when nft:
                    then.RemoveNftOnly.Add(vip);
                    break;
                case ArpMethod.Nftables when arptables:
                    then.RemoveArptablesOnly.Add(vip);
                    break;
            }
        }

        return Result(first.Then(Planner.Create(state, then)));
    }
}
