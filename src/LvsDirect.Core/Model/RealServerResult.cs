using System.Net;

namespace LvsDirect.Core.Model;

/// <summary>The outcome of Set-LvsRealServer on one host.</summary>
public enum RealServerStatus
{
    /// <summary>The host already was in the desired state.</summary>
    Unchanged,

    /// <summary>Something was added, removed or persisted.</summary>
    Changed,

    /// <summary>-WhatIf: the changes listed would be made; nothing was changed.</summary>
    WhatIf,

    /// <summary>The host could not be reached or configured; Error says why.</summary>
    Failed,
}

/// <summary>What happened (or, with -WhatIf, would happen) to one VIP of a host.</summary>
public enum VipAction
{
    Added,
    Removed,
    Unchanged,
}

/// <summary>One VIP of a Set-LvsRealServer result.</summary>
public sealed class VipChange
{
    public required IPAddress VirtualIP { get; init; }

    public VipAction Action { get; init; }

    /// <summary>What was done to its address and its ARP suppression.</summary>
    public string? Detail { get; init; }

    public override string ToString() => $"{Action} {VirtualIP}";
}

/// <summary>Output of Set-LvsRealServer: one per host.</summary>
public sealed class RealServerResult
{
    public required string ComputerName { get; init; }

    public RealServerStatus Status { get; init; }

    public ArpMethod Method { get; init; } = ArpMethod.Arptables;

    public IReadOnlyList<VipChange> Changes { get; init; } = [];

    public IReadOnlyList<IPAddress> Added => Select(VipAction.Added);

    public IReadOnlyList<IPAddress> Removed => Select(VipAction.Removed);

    public IReadOnlyList<IPAddress> Unchanged => Select(VipAction.Unchanged);

    /// <summary>VIPs that were configured but not LvsDirect's, taken over with -Adopt (with -WhatIf: would be).</summary>
    public IReadOnlyList<IPAddress> Adopted { get; init; } = [];

    /// <summary>With -Persist: whether rc.local or the saved ARP rules had to be rewritten.</summary>
    public bool PersistenceChanged { get; init; }

    /// <summary>The commands run (or, with -WhatIf, that would run), as -WhatIf prints them.</summary>
    public IReadOnlyList<string> Commands { get; init; } = [];

    /// <summary>Whether LvsDirect had to copy itself onto the host first.</summary>
    public bool ModuleInstalled { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>Why the host failed; null when it did not.</summary>
    public string? Error { get; init; }

    /// <summary>The FullyQualifiedErrorId of that failure.</summary>
    public string? ErrorId { get; init; }

    public override string ToString() => $"{ComputerName}: {Status}";

    private IReadOnlyList<IPAddress> Select(VipAction action) =>
        Changes.Where(c => c.Action == action).Select(c => c.VirtualIP).ToList();
}
