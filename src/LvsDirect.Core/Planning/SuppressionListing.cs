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

    /// <summary>The rule-based suppression of <paramref name="requested"/> once a plan has put it in place (Set-ArpSuppression's output).</summary>
    public static IReadOnlyList<ArpSuppressionRule> Ensured(IEnumerable<SuppressionRequest> requested, HostState state, bool nftables)
    {
        var distinct = requested.DistinctBy(s => s.VirtualIP).ToList();
        if (nftables)
        {
            return distinct.Select(s => new ArpSuppressionRule
            {
                VirtualIP = s.VirtualIP,
                RealIP = s.RealIP,
                Method = ArpMethod.Nftables,
                State = SuppressionState.Complete,
                Rules = NftRuleLines(new NftArpEntry(s.VirtualIP, true, s.RealIP)),
            }).ToList();
        }

        var dialect = state.RequireDialect();
        return distinct.Select(s => new ArpSuppressionRule
        {
            VirtualIP = s.VirtualIP,
            RealIP = s.RealIP,
            Flavor = dialect.Flavor,
            State = SuppressionState.Complete,
            Rules =
            [
                ArptablesSyntax.RuleLine(ArptablesDialect.OwnInputChain, ArptablesSyntax.InputDropSpec(s.VirtualIP)),
                ArptablesSyntax.RuleLine(ArptablesDialect.OwnOutputChain, ArptablesSyntax.OutputMangleSpec(s.VirtualIP, s.RealIP)),
            ],
        }).ToList();
    }

    /// <summary>The sysctl method's suppression of <paramref name="requested"/> once a plan has raised the settings (read in <paramref name="state"/>).</summary>
    public static IReadOnlyList<ArpSuppressionRule> Ensured(IEnumerable<SysctlSuppressionRequest> requested, HostState state) =>
        requested.DistinctBy(s => s.VirtualIP).Select(s => new ArpSuppressionRule
        {
            VirtualIP = s.VirtualIP,
            Method = ArpMethod.Sysctl,
            State = SuppressionState.Complete,
            Rules = SysctlKey.For(s.FacingInterface).Select(k => $"{k.Name} = {Math.Max(k.Target, state.Sysctls!.Get(k))}").ToList(),
        }).ToList();

    /// <summary>The nftables method's rules for one VIP, as `nft list table arp lvsdirect` prints them.</summary>
    public static IReadOnlyList<string> NftRuleLines(NftArpEntry e) =>
        new[]
        {
            e.Drop ? $"arp daddr ip {e.VirtualIP} drop" : null,
            e.MangleTo is null ? null : $"arp saddr ip {e.VirtualIP} arp saddr ip set {e.MangleTo}",
        }.OfType<string>().ToList();
}
