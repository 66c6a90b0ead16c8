using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>
/// An IPv6 VIP: neighbour discovery answers only for addresses of the interface a solicitation arrives on, so
/// on lo (as /128, LvsDirect's place for it) it needs no suppression; on an interface facing the segment it
/// answers and takes the director's traffic. No ARP check applies.
/// </summary>
public sealed class NeighbourDiscoveryCheck : VipCheck
{
    public override string Name => CheckNames.NeighbourDiscovery;

    public override HostReads Reads => HostReads.Addresses;

    protected override bool AppliesTo(VipSubject vip) => vip is { Kind: VipKind.IPv6, Live.Count: > 0 };

    protected override RealServerCheck Check(CheckContext context, VipSubject v)
    {
        var vip = v.Vip;
        var facing = v.Live.Where(a => a.InterfaceName != "lo").Select(a => a.InterfaceName).Distinct().ToList();
        return context.Result(Name, v.Target, facing.Count == 0 ? CheckStatus.Pass : CheckStatus.Fail,
            facing.Count == 0
                ? $"{vip} is on lo only: neighbour discovery answers solicitations only for the receiving interface's addresses, so this host never claims it."
                : $"{vip} is on {string.Join(", ", facing)}: this host answers neighbour solicitations for it there and takes the director's traffic.",
            facing.Count == 0 ? null : string.Join("; ", facing.Select(f => $"Remove-LvsVip -Address {vip} -InterfaceName {f}")) + $"; New-LvsVip -Address {vip}");
    }
}
