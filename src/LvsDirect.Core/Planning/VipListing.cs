using System.Net;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;

namespace LvsDirect.Core.Planning;

/// <summary>
/// A host's VIPs as output objects, from one reading of its state and its ownership record: what Get-LvsVip
/// lists, and what every other command that reports VIPs reports, so they cannot disagree.
/// </summary>
public static class VipListing
{
    /// <summary>The VIPs LvsDirect manages (or with <paramref name="all"/> every address) of a host, as output objects.</summary>
    public static IEnumerable<LvsVip> List(HostState state, bool all, Ownership ownership)
    {
        var suppressed = state.SuppressedAddresses().ToHashSet();
        foreach (var a in state.AllAddresses)
        {
            var isVip = suppressed.Contains(a.Address);
            var managed = ownership.IsManaged(a.Address);
            if (!managed && !all)
            {
                continue;
            }

            yield return new LvsVip
            {
                Address = a.Address,
                PrefixLength = a.PrefixLength,
                InterfaceName = a.InterfaceName,
                Label = a.AliasLabel,
                Broadcast = a.Broadcast,
                ArpSuppression = state.ArpRules is null && state.NftArp is null && !HostState.IsLoopbackIPv6Vip(a) && !(HostState.IsLoopbackVip(a) && state.Sysctls is not null)
                    ? SuppressionState.Unknown
                    : state.SuppressionFor(a.Address),
                RealIP = RealIPOf(state, a.Address),
                IsVip = isVip,
                Method = isVip ? state.MethodFor(a.Address) : null,
                Managed = managed,
            };
        }
    }

    /// <summary>The real IP the VIP's outgoing ARP is rewritten to, by arptables or by LvsDirect's nftables table.</summary>
    public static IPAddress? RealIPOf(HostState state, IPAddress vip) =>
        state.OutputRulesFor(vip).Select(r => r.MangleIpSource).FirstOrDefault() ?? state.NftEntryFor(vip)?.MangleTo;
}
