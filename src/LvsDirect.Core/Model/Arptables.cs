using System.Net;

namespace LvsDirect.Core.Model;

/// <summary>Which arptables implementation the host has; they differ in chain names and in what one call accepts.</summary>
public enum ArptablesFlavor
{
    /// <summary>arptables-nft (xtables-nft-multi, Debian 10+, RHEL 8+): chains INPUT/OUTPUT, address lists.</summary>
    Nft,

    /// <summary>arptables 0.0.x (netfilter legacy): chains INPUT/OUTPUT, one address per rule.</summary>
    Legacy,

    /// <summary>Red Hat's arptables_jf (RHEL 4-6): chains IN/OUT, one address per rule.</summary>
    Jf,
}

/// <summary>The syntax one flavor expects.</summary>
public sealed record ArptablesDialect(ArptablesFlavor Flavor)
{
    public string InputChain => Flavor == ArptablesFlavor.Jf ? "IN" : "INPUT";

    public string OutputChain => Flavor == ArptablesFlavor.Jf ? "OUT" : "OUTPUT";

    /// <summary>
    /// LvsDirect's own chain for the drop rules, jumped to from the first rule of <see cref="InputChain"/>: a
    /// rule another tool appends or inserts in the built-in chain cannot come between the VIPs and their rules
    /// unless it is put ahead of the jump, which the diagnostics report and a new Set-ArpSuppression repairs.
    /// </summary>
    public const string OwnInputChain = "LVSDIRECT-IN";

    /// <summary>LvsDirect's own chain for the mangle rules, jumped to from the first rule of <see cref="OutputChain"/>.</summary>
    public const string OwnOutputChain = "LVSDIRECT-OUT";

    /// <summary>
    /// True when one `arptables -A/-D` takes a comma list (`-d a,b,c`) and makes or deletes one rule per address
    /// in one kernel transaction that touches no other rule. arptables-legacy 0.0.5 and arptables_jf take one
    /// address per call.
    /// </summary>
    public bool AddressLists => Flavor == ArptablesFlavor.Nft;

    /// <summary>
    /// True when two calls on different chains may run at once without losing either's rules: arptables-nft sends
    /// each call as one nftables transaction that the kernel refuses when the rule set changed since it was read,
    /// and then reads it again and retries. arptables-legacy and arptables_jf read the whole table, change it and
    /// write it back, so the second writer would undo the first.
    /// </summary>
    public bool SideBySideChains => Flavor == ArptablesFlavor.Nft;

    /// <summary>The built-in chain that jumps to <paramref name="ownChain"/>.</summary>
    public string BuiltinFor(string ownChain) => ownChain == OwnInputChain ? InputChain : OutputChain;
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
    /// <summary>The seed's IN rule for <paramref name="vip"/> in the built-in chain: `-A IN(PUT) -d VIP -j DROP` and nothing else.</summary>
    public bool IsInputDropFor(IPAddress vip, ArptablesDialect dialect) => IsInputDropFor(vip, dialect.InputChain);

    /// <summary>The seed's OUT rule for <paramref name="vip"/> in the built-in chain: `-A OUT(PUT) -s VIP -j mangle --mangle-ip-s RIP`.</summary>
    public bool IsOutputMangleFor(IPAddress vip, ArptablesDialect dialect) => IsOutputMangleFor(vip, dialect.OutputChain);

    /// <summary>`-A CHAIN -d VIP -j DROP` and nothing else, in <paramref name="chain"/>.</summary>
    public bool IsInputDropFor(IPAddress vip, string chain) =>
        Table == "filter" && Chain == chain && string.Equals(Target, "DROP", StringComparison.Ordinal)
        && vip.Equals(Destination) && Source is null && MangleIpSource is null && !HasOtherMatches;

    /// <summary>`-A CHAIN -s VIP -j mangle --mangle-ip-s RIP` and nothing else, in <paramref name="chain"/>.</summary>
    public bool IsOutputMangleFor(IPAddress vip, string chain) =>
        Table == "filter" && Chain == chain && string.Equals(Target, "mangle", StringComparison.Ordinal)
        && vip.Equals(Source) && Destination is null && MangleIpSource is not null && !HasOtherMatches;

    /// <summary>A plain jump `-A CHAIN -j TARGET` (no match): how LvsDirect enters its own chains.</summary>
    public bool IsJumpTo(string target) =>
        Table == "filter" && string.Equals(Target, target, StringComparison.Ordinal)
        && Source is null && Destination is null && MangleIpSource is null && !HasOtherMatches;
}
