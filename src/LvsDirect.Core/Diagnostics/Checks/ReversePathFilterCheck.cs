using LvsDirect.Core.Model;
using static LvsDirect.Core.Diagnostics.InterfaceSysctls;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>rp_filter does not drop the director's packets for the VIP (strict mode with replies leaving elsewhere).</summary>
public sealed class ReversePathFilterCheck : VipCheck
{
    public override string Name => CheckNames.ReversePathFilter;

    public override HostReads Reads => HostReads.Addresses | HostReads.Sysctls;

    protected override bool AppliesTo(VipSubject vip) => vip is { Kind: VipKind.Address, Live.Count: > 0 };

    protected override RealServerCheck Check(CheckContext d, VipSubject v)
    {
        var s = d.Snapshot;
        var vip = v.Vip;
        // Packets for the VIP arrive on the interface that faces the director; replies to clients (anywhere) leave by
        // the default route, and that is the path rp_filter checks the client's address against.
        var inbound = d.DirectorInterface ?? v.Live.Select(a => a.InterfaceName).FirstOrDefault(n => n != "lo") ?? d.DefaultInterface;
        if (inbound is null)
        {
            return d.Result(Name, v.Target, CheckStatus.Warning,
                $"Cannot tell which interface packets for {vip} arrive on: no default route, and no -DirectorAddress on a connected subnet.",
                "Test-LvsRealServer -DirectorAddress <director>");
        }

        var rp = d.Effective(inbound, RpFilter);
        var outbound = d.DefaultInterface;
        if (rp == 1 && outbound != inbound)
        {
            return d.Result(Name, v.Target, CheckStatus.Fail,
                $"Strict rp_filter on {inbound} (max of conf/all={s.Sysctls.Get("all", RpFilter)} and conf/{inbound}={s.Sysctls.Get(inbound, RpFilter)}): packets for {vip} arrive on {inbound}, but the route back to clients leaves by {outbound ?? "no interface (no default route)"}, so the kernel drops them.",
                $"sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.{inbound}.rp_filter=2");
        }

        if (rp >= 1 && outbound is null)
        {
            return d.Result(Name, v.Target, CheckStatus.Fail,
                $"rp_filter={rp} on {inbound} and no default route: packets for {vip} from clients have no reverse path and are dropped.",
                "ip route add default via <your router> dev " + inbound);
        }

        var why = rp switch
        {
            0 => "rp_filter is off",
            1 => $"strict rp_filter, and replies leave by {inbound} too",
            _ => "loose rp_filter: any route back to the client will do",
        };
        return d.Result(Name, v.Target, CheckStatus.Pass, $"Packets for {vip} arrive on {inbound}: {why}.");
    }
}
