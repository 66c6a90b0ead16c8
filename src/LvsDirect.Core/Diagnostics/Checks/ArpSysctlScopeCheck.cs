using System.Net.Sockets;
using LvsDirect.Core.Model;
using static LvsDirect.Core.Diagnostics.InterfaceSysctls;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>
/// ARP sysctls set on lo alone do nothing: the kernel uses max(conf/all, conf/&lt;iface&gt;) of the interface the
/// request arrives on. A Fail when a live IPv4 VIP relies on them, else a Warning.
/// </summary>
public sealed class ArpSysctlScopeCheck : HostCheck
{
    public override string Name => CheckNames.ArpSysctlScope;

    public override HostReads Reads => HostReads.Addresses | HostReads.LiveSuppression;

    protected override RealServerCheck Check(CheckContext d)
    {
        var s = d.Snapshot.Sysctls;
        var loIgnore = s.Get("lo", ArpIgnore);
        var loAnnounce = s.Get("lo", ArpAnnounce);
        if (loIgnore < 1 && loAnnounce < 2)
        {
            return d.Result(Name, "lo", CheckStatus.Pass, "No ARP sysctl is set on lo alone.");
        }

        var weak = d.ArpInterfaces
            .Where(i => (loIgnore >= 1 && d.Effective(i, ArpIgnore) < 1) || (loAnnounce >= 2 && d.Effective(i, ArpAnnounce) < 2))
            .ToList();
        if (weak.Count == 0)
        {
            return d.Result(Name, "lo", CheckStatus.Pass,
                $"arp_ignore/arp_announce set on lo are also in effect on {string.Join(", ", d.ArpInterfaces)} (conf/all or the interface).");
        }

        var reliedOn = d.Vips.Any(v => v.AddressFamily == AddressFamily.InterNetwork && d.Snapshot.State.FindAddress(v).Any() && d.LiveSuppression(v) != SuppressionState.Complete);
        var values = string.Join(", ", weak.Select(i => $"{i}: arp_ignore={d.Effective(i, ArpIgnore)} arp_announce={d.Effective(i, ArpAnnounce)}"));
        return d.Result(Name, "lo", reliedOn ? CheckStatus.Fail : CheckStatus.Warning,
            $"conf/lo has arp_ignore={loIgnore} arp_announce={loAnnounce}, but the kernel uses max(conf/all, conf/<iface>) of the interface the ARP request arrives on, so lo's values do nothing ({values}).",
            "sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 (or Set-ArpSuppression -VirtualIP <VIP>)");
    }
}
