using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;

namespace LvsDirect.Core.Planning;

/// <summary>A VIP address a method switch moves: off <see cref="From"/>, onto <see cref="ToInterface"/> as /32.</summary>
public sealed record VipMove(InterfaceAddress From, string ToInterface)
{
    public IPAddress Address => From.Address;
}

/// <summary>
/// Switching a VIP between the sysctl method (VIP on lo, kept out of ARP by arp_ignore/arp_announce) and a
/// rule-based one (VIP on the facing interface, kept out of ARP by arptables or nftables rules). The VIP's
/// address moves, so the switch is two plans made from one reading and run one after the other: the first
/// puts the new method's suppression in place and adds the VIP where that method needs it, the second takes
/// it off where it was and removes the old method's suppression. Every prefix of the whole is safe: until the
/// first plan's last step the old arrangement is untouched; from then on the VIP is where the new method
/// keeps it out of ARP, and any copy still on the old interface is still kept out by the old method.
/// </summary>
public static class MethodSwitch
{
    /// <summary>Where the VIP is that <paramref name="to"/> needs somewhere else: off lo for a rule-based method, onto lo for the sysctl method.</summary>
    public static IReadOnlyList<InterfaceAddress> AddressesToMove(HostState state, IPAddress vip, ArpMethod to) =>
        vip.AddressFamily != AddressFamily.InterNetwork
            ? []
            : to == ArpMethod.Sysctl
                ? state.FindAddress(vip).Where(a => a.InterfaceName != HostState.LoopbackInterface).ToList()
                : state.FindAddress(vip).Where(HostState.IsLoopbackVip).ToList();

    /// <summary>
    /// To the sysctl method. <paramref name="ensure"/> raises the sysctls for every VIP of the call (the facing
    /// interface of a moved VIP is the one it leaves); then each move adds the VIP on lo, and only after that
    /// the second plan takes it off the old interface and removes the rules of <paramref name="dropRulesOf"/>
    /// (arptables and nftables alike, where <paramref name="state"/> has them).
    /// </summary>
    public static Plan ToSysctl(HostState state, DesiredChange ensure, IReadOnlyList<VipMove> moves, IEnumerable<IPAddress> dropRulesOf)
    {
        AddMoves(ensure, moves);
        var first = Planner.Create(state, ensure);
        var then = new DesiredChange();
        then.RemoveAddresses.AddRange(Accepted(first, moves).Select(m => m.From));
        then.RemoveSuppression.AddRange(dropRulesOf.Distinct().Where(v =>
            !first.Refused.Contains(v) && (state.InputRulesFor(v).Any() || state.OutputRulesFor(v).Any() || state.NftEntryFor(v) is not null)));
        return first.Then(Planner.Create(state, then));
    }

    /// <summary>
    /// To a rule-based method. <paramref name="ensure"/> adds the rules (planned from <paramref name="ruleState"/>,
    /// the half of the reading the chosen method lives in), each move adds the VIP on the facing interface; then
    /// the second plan takes it off lo and, when no VIP is left on lo, restores the sysctls
    /// <paramref name="records"/> says LvsDirect raised.
    /// </summary>
    public static Plan ToRules(HostState state, HostState ruleState, DesiredChange ensure, IReadOnlyList<VipMove> moves, IReadOnlyList<SysctlRecord> records)
    {
        AddMoves(ensure, moves);
        var first = Planner.Create(ruleState, ensure);
        var accepted = Accepted(first, moves).ToList();
        if (accepted.Count == 0)
        {
            return first;
        }

        var then = new DesiredChange { SysctlRecords = records, RestoreSysctls = true };
        then.RemoveAddresses.AddRange(accepted.Select(m => m.From));
        return first.Then(Planner.Create(state.WithoutArptables().WithoutNftables(), then));
    }

    private static void AddMoves(DesiredChange ensure, IReadOnlyList<VipMove> moves)
    {
        foreach (var m in moves)
        {
            ensure.MovingVips.Add(m.Address);
            ensure.EnsureVips.Add(new VipRequest(m.Address, 32, m.ToInterface));
        }
    }

    // A VIP the first plan refused (its suppression or its new address) stays exactly where it was.
    private static IEnumerable<VipMove> Accepted(Plan first, IEnumerable<VipMove> moves) => moves.Where(m => !first.Refused.Contains(m.Address));
}
