using LvsDirect.Core.Model;
using static LvsDirect.Core.Diagnostics.InterfaceSysctls;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>The host's own ARP requests never name the VIP: an OUTPUT mangle rule, or arp_announce=2 on every ARP interface.</summary>
public sealed class ArpAnnounceCheck : VipCheck
{
    public override string Name => CheckNames.ArpAnnounce;

    public override HostReads Reads => HostReads.Addresses | HostReads.LiveSuppression;

    protected override bool AppliesTo(VipSubject vip) => vip is { Kind: VipKind.Address, Live.Count: > 0 };

    protected override RealServerCheck Check(CheckContext d, VipSubject v)
    {
        var vip = v.Vip;
        if (d.LiveRealIP(vip) is { } rip)
        {
            return d.Result(Name, v.Target, CheckStatus.Pass, $"The mangle rule ({d.RuleMethod(vip)}) rewrites {vip} to {rip} in outgoing ARP.");
        }

        var low = d.ArpInterfaces.Where(i => d.Effective(i, ArpAnnounce) < 2).ToList();
        if (low.Count == 0)
        {
            return d.Result(Name, v.Target, CheckStatus.Pass,
                $"No OUTPUT mangle rule, but arp_announce is 2 on {(d.ArpInterfaces.Count == 0 ? "every ARP interface" : string.Join(", ", d.ArpInterfaces))}: outgoing ARP never names {vip}.");
        }

        var values = string.Join(", ", low.Select(i => $"{i}={d.Effective(i, ArpAnnounce)}"));
        if (d.LiveSuppression(vip) == SuppressionState.Unknown)
        {
            return d.Result(Name, v.Target, CheckStatus.Warning,
                $"arp_announce is below 2 ({values}) and the arptables rules could not be read ({d.Snapshot.ArpRulesUnknownReason}) to see whether an OUTPUT mangle rule covers {vip}.",
                "Run Test-LvsRealServer as root to read the arptables rules");
        }

        var zero = low.Any(i => d.Effective(i, ArpAnnounce) == 0);
        return d.Result(Name, v.Target, zero ? CheckStatus.Fail : CheckStatus.Warning,
            zero
                ? $"No OUTPUT mangle rule for {vip} and arp_announce is 0 ({values}, max of conf/all and the interface): ARP requests this host sends may say 'tell {vip}' and poison the gateway's cache."
                : $"No OUTPUT mangle rule for {vip} and arp_announce is 1 ({values}): the kernel still may name {vip} in ARP requests to a subnet that contains it.",
            $"Set-ArpSuppression -VirtualIP {vip} (or: sysctl -w net.ipv4.conf.all.arp_announce=2)");
    }
}
