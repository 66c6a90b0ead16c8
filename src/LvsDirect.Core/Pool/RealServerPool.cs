using System.Net;
using LvsDirect.Core.Config;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;

namespace LvsDirect.Core.Pool;

/// <summary>The VIPs one real server must hold: every DR virtual service it serves.</summary>
public sealed record RealServerAssignment(IPAddress Address, IReadOnlyList<IPAddress> VirtualIPs);

/// <summary>A virtual service (or one real server of it) left out of the pool, and why.</summary>
public sealed record SkippedService(LvsVirtualService Service, string Why);

/// <summary>The pure parts of configuring a pool: who gets which VIP, and what a plan did to each VIP.</summary>
public static class RealServerPool
{
    /// <summary>
    /// Groups director services by real server: each real server gets, in first-seen order, the VIP of every
    /// direct-routing service it is a real server of. Firewall-mark services without an address and
    /// NAT or tunnel services and real servers need no VIP on the real server and are returned as skipped; an IPv6
    /// VIP is assigned like any other (it goes on lo there).
    /// </summary>
    public static (IReadOnlyList<RealServerAssignment> Assignments, IReadOnlyList<SkippedService> Skipped) GroupByRealServer(IEnumerable<LvsVirtualService> services)
    {
        var order = new List<IPAddress>();
        var vipsByServer = new Dictionary<IPAddress, List<IPAddress>>();
        var skipped = new List<SkippedService>();
        foreach (var s in services)
        {
            // A fwmark service that also names its VIP (Piranha's address + fwmark) still gives that VIP.
            if (s.Address is null)
            {
                skipped.Add(new SkippedService(s, $"firewall-mark service {s.FirewallMark} has no single VIP to put on its real servers"));
                continue;
            }

            if (s.ForwardingMethod != LvsForwardingMethod.Direct && s.RealServers.All(r => r.ForwardingMethod != LvsForwardingMethod.Direct))
            {
                skipped.Add(new SkippedService(s, $"forwarding method {s.ForwardingMethod}: its real servers need no VIP"));
                continue;
            }

            foreach (var rs in s.RealServers)
            {
                if (rs.ForwardingMethod != LvsForwardingMethod.Direct)
                {
                    skipped.Add(new SkippedService(s, $"real server {rs} is forwarded by {rs.ForwardingMethod}, so it needs no VIP"));
                    continue;
                }

                if (!vipsByServer.TryGetValue(rs.Address, out var vips))
                {
                    vips = [];
                    vipsByServer[rs.Address] = vips;
                    order.Add(rs.Address);
                }

                if (!vips.Contains(s.Address))
                {
                    vips.Add(s.Address);
                }
            }
        }

        return (order.Select(a => new RealServerAssignment(a, vipsByServer[a])).ToList(), skipped);
    }

    /// <summary>
    /// One entry per VIP from a plan's item changes: Added when its address or suppression is added (or a
    /// suppression rule replaced), Removed when either is removed, else Unchanged. VIPs neither desired nor
    /// removed are not listed.
    /// </summary>
    public static IReadOnlyList<VipChange> Summarize(IEnumerable<IPAddress> desired, IEnumerable<IPAddress> removed, IEnumerable<ItemChange> changes)
    {
        var byVip = changes.ToLookup(c => c.Address);
        VipChange Entry(IPAddress vip, bool removing)
        {
            var items = byVip[vip].ToList();
            var changed = items.Any(c => c.Kind != ChangeKind.Unchanged);
            return new VipChange
            {
                VirtualIP = vip,
                Action = !changed ? VipAction.Unchanged : removing ? VipAction.Removed : VipAction.Added,
                Detail = items.Count == 0 ? null : string.Join("; ", items.Select(c => $"{c.Subject}: {c.Detail}")),
            };
        }

        return desired.Distinct().Select(v => Entry(v, removing: false))
            .Concat(removed.Distinct().Select(v => Entry(v, removing: true)))
            .ToList();
    }

    /// <summary>Changed when any VIP or the persisted files changed, WhatIf when nothing was applied.</summary>
    public static RealServerStatus StatusOf(IReadOnlyList<VipChange> changes, bool persistenceChanged, bool whatIf, bool adopted = false) =>
        changes.Any(c => c.Action != VipAction.Unchanged) || persistenceChanged || adopted
            ? whatIf ? RealServerStatus.WhatIf : RealServerStatus.Changed
            : RealServerStatus.Unchanged;
}
