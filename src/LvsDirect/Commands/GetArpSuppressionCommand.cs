using System.Management.Automation;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;

namespace LvsDirect.Commands;

/// <summary>
/// Parses the live arptables rule set into one object per suppressed VIP, and reports the VIPs on lo that the
/// ARP sysctls suppress.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ArpSuppression")]
[OutputType(typeof(ArpSuppressionRule))]
public sealed class GetArpSuppressionCommand : LvsCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[]? VirtualIP { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        DemandRoot();
        var filter = VirtualIP?.Select(a => InputValidation.ParseCidr(a).Address).ToHashSet();
        var state = ReadSuppressionState();
        foreach (var rule in List(state))
        {
            if (filter is null || filter.Contains(rule.VirtualIP))
            {
                WriteObject(rule);
            }
        }
    });

    internal static IEnumerable<ArpSuppressionRule> List(HostState state)
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
                RealIP = GetLvsVipCommand.RealIPOf(state, vip),
                Flavor = state.RequireDialect().Flavor,
                State = state.SuppressionFor(vip),
                Rules = rules.Select(r => r.RawLine).ToList(),
                ShadowedBy = state.ShadowFor(vip),
            };
        }
    }

    /// <summary>The nftables method's rules for one VIP, as `nft list table arp lvsdirect` prints them.</summary>
    internal static IReadOnlyList<string> NftRuleLines(Core.Parsing.NftArpEntry e) =>
        new[]
        {
            e.Drop ? $"arp daddr ip {e.VirtualIP} drop" : null,
            e.MangleTo is null ? null : $"arp saddr ip {e.VirtualIP} arp saddr ip set {e.MangleTo}",
        }.OfType<string>().ToList();
}
