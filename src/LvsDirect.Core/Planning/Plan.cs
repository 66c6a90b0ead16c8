using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Planning;

/// <summary>A VIP the caller wants on an interface.</summary>
public sealed record VipRequest(IPAddress Address, int PrefixLength, string InterfaceName, string? Label = null, IPAddress? Broadcast = null)
{
    /// <summary>Address/prefix; the address's own text is kept by IPAddress, so this formats only the prefix.</summary>
    public string Cidr => string.Concat(Address.ToString(), "/", PrefixLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>
/// ARP suppression the caller wants for a VIP. <see cref="FacingInterface"/> is the interface its ARP leaves by,
/// where the real IP must be one of the host's own addresses (null: anywhere on the host).
/// </summary>
public sealed record SuppressionRequest(IPAddress VirtualIP, IPAddress RealIP, string? FacingInterface = null);

/// <summary>Sysctl-method suppression the caller wants for a VIP on lo: arp_ignore/arp_announce on "all" and the facing interface.</summary>
public sealed record SysctlSuppressionRequest(IPAddress VirtualIP, string FacingInterface);

/// <summary>Everything one cmdlet call wants changed; the planner turns it into ordered steps.</summary>
public sealed class DesiredChange
{
    public List<SuppressionRequest> EnsureSuppression { get; } = [];

    public List<SysctlSuppressionRequest> EnsureSysctlSuppression { get; } = [];

    /// <summary>Suppression by LvsDirect's nftables ARP table (the nftables method); removal goes through RemoveSuppression.</summary>
    public List<SuppressionRequest> EnsureNftSuppression { get; } = [];

    /// <summary>
    /// The values the sysctl method replaced earlier (its state file). With <see cref="RestoreSysctls"/>, they
    /// are put back once no VIP is left on lo; they also keep a raise from recording a value twice.
    /// </summary>
    public IReadOnlyList<Persistence.SysctlRecord> SysctlRecords { get; set; } = [];

    /// <summary>A sysctl-method VIP is being removed: restore <see cref="SysctlRecords"/> if it was the last one.</summary>
    public bool RestoreSysctls { get; set; }

    public List<VipRequest> EnsureVips { get; } = [];

    /// <summary>
    /// VIPs a method switch moves between interfaces: they may already be on another interface (a plan that runs
    /// after this one takes them off there), which otherwise rejects the request.
    /// </summary>
    public HashSet<IPAddress> MovingVips { get; } = [];

    public List<IPAddress> RemoveSuppression { get; } = [];

    /// <summary>VIPs whose arptables rules alone are removed (their nftables entry, if any, stays): a conversion to nftables.</summary>
    public List<IPAddress> RemoveArptablesOnly { get; } = [];

    /// <summary>VIPs whose nftables entry alone is removed (their arptables rules, if any, stay): a conversion to arptables.</summary>
    public List<IPAddress> RemoveNftOnly { get; } = [];

    /// <summary>
    /// VIPs whose exact drop/mangle rules in the built-in INPUT/OUTPUT chains (IN/OUT for arptables_jf) belong to
    /// LvsDirect: an earlier LvsDirect wrote them there, or the user adopted the VIP. They are removed once
    /// LvsDirect's own chains suppress the VIP, or when its suppression is removed. Rules of other VIPs are never touched.
    /// </summary>
    public HashSet<IPAddress> MigrateBuiltinRules { get; } = [];

    public List<InterfaceAddress> RemoveAddresses { get; } = [];

    /// <summary>
    /// Takes every item of <paramref name="vips"/> out of this change, so that a plan made from it leaves those
    /// VIPs exactly as they are: the planner drops the VIPs it refuses before it plans a step.
    /// </summary>
    public void Drop(IReadOnlySet<IPAddress> vips)
    {
        if (vips.Count == 0)
        {
            return;
        }

        EnsureSuppression.RemoveAll(r => vips.Contains(r.VirtualIP));
        EnsureSysctlSuppression.RemoveAll(r => vips.Contains(r.VirtualIP));
        EnsureNftSuppression.RemoveAll(r => vips.Contains(r.VirtualIP));
        EnsureVips.RemoveAll(v => vips.Contains(v.Address));
        RemoveSuppression.RemoveAll(vips.Contains);
        RemoveArptablesOnly.RemoveAll(vips.Contains);
        RemoveNftOnly.RemoveAll(vips.Contains);
        RemoveAddresses.RemoveAll(a => vips.Contains(a.Address));
        MigrateBuiltinRules.ExceptWith(vips);
    }
}

/// <summary>The order steps must run in; it is what keeps a VIP from ever answering ARP.</summary>
public enum StepKind
{
    /// <summary>Addresses go first on removal, while their suppression still holds.</summary>
    RemoveAddresses,

    /// <summary>Rules and ARP sysctls are changed between the two address steps.</summary>
    ChangeArpRules,

    /// <summary>Addresses are added last, once suppression is in place.</summary>
    AddAddresses,

    /// <summary>iptables REDIRECT rules (no VIP address is involved, so no ordering against the other steps).</summary>
    ChangeRedirects,
}

public enum ChangeKind
{
    Added,
    Removed,
    Replaced,
    Unchanged,
}

/// <summary>What happens to one item (a VIP address or a VIP's suppression).</summary>
public sealed record ItemChange(string Subject, IPAddress Address, ChangeKind Kind, string Detail);

/// <summary>One command of a plan, with a human description for -WhatIf and -Confirm.</summary>
public sealed record PlanStep(StepKind Kind, string Action, string Target, ToolCommand Command)
{
    /// <summary>
    /// Null: the step runs after every step before it. Else the steps of one <see cref="StepLane.Group"/> that come
    /// one after the other in the plan may run side by side, lane beside lane, each lane in its own order.
    /// </summary>
    public StepLane? Lane { get; init; }
}

/// <summary>
/// Where a step may run beside others: steps of one <paramref name="Group"/> (one planner call's ARP chains) and
/// different <paramref name="Name"/>s (LvsDirect's INPUT chain and its OUTPUT chain) touch nothing the other lanes
/// touch, so any interleaving of the lanes ends in the same state, and every prefix of each lane is as safe as a
/// prefix of the plan. The next step outside the group waits for all of them.
/// </summary>
public sealed record StepLane(object Group, string Name);

public sealed class Plan
{
    public Plan(IReadOnlyList<PlanStep> steps, IReadOnlyList<ItemChange> changes, IReadOnlyList<PlanRefusal> rejected)
    {
        Steps = steps;
        Changes = changes;
        Rejected = rejected;
        Refused = rejected.Select(r => r.Vip).ToHashSet();
    }

    /// <summary>Items the planner refused, one error each; the rest of the plan goes on without them.</summary>
    public IReadOnlyList<PlanRefusal> Rejected { get; }

    /// <summary>The VIPs of <see cref="Rejected"/>: the plan leaves each of them exactly as it is.</summary>
    public IReadOnlySet<IPAddress> Refused { get; }

    public IReadOnlyList<PlanStep> Steps { get; }

    public IReadOnlyList<ItemChange> Changes { get; }

    public bool IsEmpty => Steps.Count == 0;

    /// <summary>Sysctl values the plan raises for the first time: to be recorded before any step runs.</summary>
    public IReadOnlyList<Persistence.SysctlRecord> SysctlRecorded { get; init; } = [];

    /// <summary>Records the plan restores (or finds changed by someone else): to be forgotten once it has run.</summary>
    public IReadOnlyList<Persistence.SysctlRecord> SysctlForgotten { get; init; } = [];

    /// <summary>
    /// This plan's steps, then every step of <paramref name="next"/>: each plan keeps its own safe order and the
    /// whole is safe when every prefix of this one leaves the host safe for <paramref name="next"/> to start.
    /// </summary>
    public Plan Then(Plan next) =>
        new([.. Steps, .. next.Steps], [.. Changes, .. next.Changes], [.. Rejected, .. next.Rejected])
        {
            SysctlRecorded = [.. SysctlRecorded, .. next.SysctlRecorded],
            SysctlForgotten = [.. SysctlForgotten, .. next.SysctlForgotten],
        };
}
