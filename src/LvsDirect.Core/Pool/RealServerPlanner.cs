using System.Net;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;

namespace LvsDirect.Core.Pool;

/// <summary>A real server's desired state turned into a plan, with what it does to each VIP.</summary>
public sealed record RealServerPlan(Plan Plan, IReadOnlyList<IPAddress> Wanted, IReadOnlyList<IPAddress> Removed, IReadOnlyList<VipChange> Changes);

/// <summary>
/// Set-LvsRealServer's desired state: exactly <c>vips</c>, each with its ARP suppression, on the interface
/// given (else where it already is, else the default route's); VIPs LvsDirect manages there but not listed are removed, address first,
/// then suppression. Nothing else is touched. The same plan whether it runs here, in a PowerShell session on
/// the host, or over the agentless transport.
/// </summary>
public static class RealServerPlanner
{
    public static RealServerPlan Create(HostState state, IReadOnlyList<(IPAddress Address, int PrefixLength)> vips, string? interfaceName)
    {
        var desired = new DesiredChange();
        foreach (var (address, prefix) in vips)
        {
            // Without an interface, a VIP already on some interface (lo, say) stays there: that is not a change.
            var iface = interfaceName is null && state.FindAddress(address).FirstOrDefault() is { } existing
                ? state.RequireInterface(existing.InterfaceName)
                : Resolve.Interface(state, interfaceName);
            // ARP leaves by the interface facing the network: for a VIP on lo that is the default route's.
            var arpInterface = iface.Name == HostState.LoopbackInterface ? state.DefaultInterfaceName : iface.Name;
            desired.EnsureSuppression.Add(new SuppressionRequest(address, Resolve.RealIP(state, address, arpInterface, null)));
            desired.EnsureVips.Add(new VipRequest(address, prefix, iface.Name));
        }

        var wanted = vips.Select(v => v.Address).Distinct().ToList();
        var wantedSet = wanted.ToHashSet();
        var removed = state.SuppressedAddresses().Where(a => !wantedSet.Contains(a)).ToList();
        foreach (var vip in removed)
        {
            desired.RemoveAddresses.AddRange(state.FindAddress(vip));
            desired.RemoveSuppression.Add(vip);
        }

        var plan = Planner.Create(state, desired);
        return new RealServerPlan(plan, wanted, removed, RealServerPool.Summarize(wanted, removed, plan.Changes));
    }
}
