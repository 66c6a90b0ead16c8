using System.Net;

namespace LvsDirect.Core.Model;

/// <summary>How a VIP is kept out of ARP.</summary>
public enum ArpMethod
{
    Arptables,
    Sysctl,

    /// <summary>The same two rules as Arptables, in the nftables table `arp lvsdirect`, for hosts without arptables.</summary>
    Nftables,
}

/// <summary>Whether both suppression rules for a VIP are in place.</summary>
public enum SuppressionState
{
    /// <summary>Both the IN drop and the OUT mangle rule exist.</summary>
    Complete,

    /// <summary>Only the IN drop rule exists: requests are ignored, but outgoing ARP still says "tell VIP".</summary>
    InputOnly,

    /// <summary>Only the OUT mangle rule exists: the VIP still answers ARP requests.</summary>
    OutputOnly,

    /// <summary>No rule exists.</summary>
    None,

    /// <summary>The rules could not be read (reading them needs root).</summary>
    Unknown,

    /// <summary>
    /// The VIP's arptables rules exist but do not take effect: a rule the kernel tries first could accept its ARP
    /// (a foreign ACCEPT or jump ahead of LvsDirect's jump or rule), or nothing jumps to LvsDirect's chain.
    /// </summary>
    Shadowed,
}

/// <summary>A virtual IP on this host (output of Get-LvsVip and New-LvsVip).</summary>
public sealed class LvsVip
{
    public required IPAddress Address { get; init; }

    public required int PrefixLength { get; init; }

    public required string InterfaceName { get; init; }

    public string? Label { get; init; }

    public IPAddress? Broadcast { get; init; }

    /// <summary>The state of its ARP suppression; a VIP without any is only listed with -All.</summary>
    public SuppressionState ArpSuppression { get; init; }

    /// <summary>The address outgoing ARP is rewritten to, when the OUT rule exists.</summary>
    public IPAddress? RealIP { get; init; }

    /// <summary>True when LvsDirect treats it as a VIP (its ARP is suppressed); false for other addresses listed by -All.</summary>
    public bool IsVip { get; init; }

    /// <summary>How its ARP is suppressed: arptables rules, or (a VIP on lo) the ARP sysctls; null when it is not.</summary>
    public ArpMethod? Method { get; init; }

    /// <summary>
    /// True when LvsDirect manages it (its ownership record, or its boot block from an earlier version): only
    /// such VIPs are listed without -All, and only they are changed by desired state, pipeline removal and Export-RcLocal.
    /// </summary>
    public bool Managed { get; init; }

    public string Cidr => $"{Address}/{PrefixLength}";

    public override string ToString() => Cidr;
}

/// <summary>The ARP suppression for one VIP (output of Get-/Set-ArpSuppression).</summary>
public sealed class ArpSuppressionRule
{
    public required IPAddress VirtualIP { get; init; }

    public IPAddress? RealIP { get; init; }

    public ArpMethod Method { get; init; } = ArpMethod.Arptables;

    /// <summary>The arptables flavor; null for the sysctl method, which uses no rules.</summary>
    public ArptablesFlavor? Flavor { get; init; }

    public SuppressionState State { get; init; }

    /// <summary>The rules as the host's arptables prints them; for the sysctl method, the settings as sysctl prints them.</summary>
    public IReadOnlyList<string> Rules { get; init; } = [];

    /// <summary>With State Shadowed: the rule that comes first and could accept the VIP's ARP (or the jump that is missing).</summary>
    public string? ShadowedBy { get; init; }

    public override string ToString() => $"{VirtualIP} -> {RealIP}";
}

/// <summary>Output of Save-ArpSuppression.</summary>
public sealed class ArpSuppressionSaveResult
{
    public required string Path { get; init; }

    public int RuleCount { get; init; }

    public string? Service { get; init; }

    public bool ServiceEnabled { get; init; }

    public bool Changed { get; init; }
}

/// <summary>How Export-RcLocal makes the configuration survive a reboot.</summary>
public enum BootPersistence
{
    /// <summary>A marked block in rc.local, run by rc-local.service (or init) late in boot.</summary>
    RcLocal,

    /// <summary>A oneshot unit of LvsDirect's own, run before network-online.target.</summary>
    SystemdUnit,
}

/// <summary>Output of Export-RcLocal.</summary>
public sealed class RcLocalExportResult
{
    public required string Path { get; init; }

    public BootPersistence Target { get; init; }

    /// <summary>True when the systemd unit was enabled (only for the default path).</summary>
    public bool ServiceEnabled { get; init; }

    public bool Created { get; init; }

    public bool Changed { get; init; }

    public int VipCount { get; init; }

    public int RuleCount { get; init; }

    /// <summary>The iptables REDIRECT rules the block recreates.</summary>
    public int RedirectCount { get; init; }

    /// <summary>The lines of the block LvsDirect owns, markers included (for SystemdUnit: the unit's lines).</summary>
    public IReadOnlyList<string> Block { get; init; } = [];
}
