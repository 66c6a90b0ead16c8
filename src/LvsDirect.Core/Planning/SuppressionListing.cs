using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Planning;

/// <summary>The ARP suppression of a host's VIPs as output objects (Get-ArpSuppression, and what the changing cmdlets return).</summary>
public static class SuppressionListing
{
    /// <summary>One object per suppressed IPv4 VIP, whichever method suppresses it.</summary>
    public static IEnumerable<ArpSuppressionRule> List(HostState state)
    {
        // IPv6 has no ARP: an IPv6 VIP has no suppression rules to list, only its address (Get-LvsVip).
        foreach (var vip in state.SuppressedAddresses().Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork))
        {
            if (state.MethodFor(vip) == ArpMethod.Nftables && state.NftEntryFor(vip) is { } entry)
            {
                yield return new ArpSuppressionRule
                {
                    VirtualIP = vip,
                    RealIP = entry.MangleTo,
                    Method = ArpMethod.Nftables,
                    State = state.SuppressionFor(vip),
                    Rules = NftRuleLines(entry),
                };
                continue;
            }

            if (state.MethodFor(vip) == ArpMethod.Sysctl)
            {
                yield return new ArpSuppressionRule
                {
                    VirtualIP = vip,
                    Method = ArpMethod.Sysctl,
                    State = state.SuppressionFor(vip),
                    Rules = state.Sysctls!.Describe(SysctlKey.For(state.DefaultRoutes.FirstOrDefault()?.InterfaceName ?? "all")),
                };
                continue;
            }

            var rules = state.InputRulesFor(vip).Concat(state.OutputRulesFor(vip)).ToList();
            yield return new ArpSuppressionRule
            {
                VirtualIP = vip,
                RealIP = VipListing.RealIPOf(state, vip),
                Flavor = state.RequireDialect().Flavor,
                State = state.SuppressionFor(vip),
                Rules = rules.Select(r => r.RawLine).ToList(),
                ShadowedBy = state.ShadowFor(vip),
            };
        }
    }

    /// <summary>The nftables method's rules for one VIP, as `nft list table arp lvsdirect` prints them.</summary>
    public static IReadOnlyList<string> NftRuleLines(NftArpEntry e) =>
        new[]
        {
            e.Drop ? $"arp daddr ip {e.VirtualIP} drop" : null,
            e.MangleTo is null ? null : $"arp saddr ip {e.VirtualIP} arp saddr ip set {e.MangleTo}",
        }.OfType<string>().ToList();
}
