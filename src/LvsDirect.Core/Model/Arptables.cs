using System.Net;

namespace LvsDirect.Core.Model;

/// <summary>Which arptables implementation the host has; they differ in chain names and in how restore works.</summary>
public enum ArptablesFlavor
{
    /// <summary>arptables-nft (xtables-nft-multi, Debian 10+, RHEL 8+): chains INPUT/OUTPUT, atomic restore.</summary>
    Nft,

    /// <summary>arptables 0.0.x (netfilter legacy): chains INPUT/OUTPUT, restore is a script that flushes first.</summary>
    Legacy,

    /// <summary>Red Hat's arptables_jf (RHEL 4-6): chains IN/OUT, restore flushes first.</summary>
    Jf,
}

/// <summary>The syntax one flavor expects.</summary>
public sealed record ArptablesDialect(ArptablesFlavor Flavor)
{
    public string InputChain => Flavor == ArptablesFlavor.Jf ? "IN" : "INPUT";

    public string OutputChain => Flavor == ArptablesFlavor.Jf ? "OUT" : "OUTPUT";

    /// <summary>
    /// True when `arptables-restore` replaces the rule set in one transaction. Only then may a batch go
    /// through restore; otherwise restore flushes first and ARP would be unsuppressed for a moment, so changes
    /// are made rule by rule with -A/-D.
    /// </summary>
    public bool AtomicRestore => Flavor == ArptablesFlavor.Nft;
}

/// <summary>
/// One parsed arptables rule. Options are compared as values, never as text, because flavors print them in
/// different orders (`-A INPUT -j DROP -d VIP` vs `-A IN -d VIP -j DROP`).
/// </summary>
public sealed record ArpRule(
    string Table,
    string Chain,
    string? Target,
    IPAddress? Source,
    IPAddress? Destination,
    IPAddress? MangleIpSource,
    bool HasOtherMatches,
    string RawLine)
{
    /// <summary>The seed's IN rule for <paramref name="vip"/>: `-A IN(PUT) -d VIP -j DROP` and nothing else.</summary>
    public bool IsInputDropFor(IPAddress vip, ArptablesDialect dialect) =>
        Table == "filter" && Chain == dialect.InputChain && string.Equals(Target, "DROP", StringComparison.Ordinal)
        && vip.Equals(Destination) && Source is null && MangleIpSource is null && !HasOtherMatches;

    /// <summary>The seed's OUT rule for <paramref name="vip"/>: `-A OUT(PUT) -s VIP -j mangle --mangle-ip-s RIP`.</summary>
    public bool IsOutputMangleFor(IPAddress vip, ArptablesDialect dialect) =>
        Table == "filter" && Chain == dialect.OutputChain && string.Equals(Target, "mangle", StringComparison.Ordinal)
        && vip.Equals(Source) && Destination is null && MangleIpSource is not null && !HasOtherMatches;
}
