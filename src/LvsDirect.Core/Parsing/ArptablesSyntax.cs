using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;

namespace LvsDirect.Core.Parsing;

/// <summary>The argument lists of the two seed rules, and flavor detection from `arptables -V`.</summary>
public static partial class ArptablesSyntax
{
    [GeneratedRegex(@"\bv0\.0\.8\b")]
    private static partial Regex JfVersion();

    [GeneratedRegex(@"\barptables v\d")]
    private static partial Regex ArptablesVersion();

    /// <summary>`-d VIP -j DROP`: the IN(PUT) rule that ignores ARP requests for the VIP.</summary>
    public static string[] InputDropSpec(IPAddress vip) =>
        ["-d", RequireIPv4(vip, "virtual IP"), "-j", "DROP"];

    /// <summary>
    /// `-s VIP -j mangle --mangle-ip-s RIP`: the OUT(PUT) rule that rewrites the VIP in outgoing ARP. It is `-s`,
    /// never `-d` as some old Red Hat pages print it.
    /// </summary>
    public static string[] OutputMangleSpec(IPAddress vip, IPAddress realIp) =>
        ["-s", RequireIPv4(vip, "virtual IP"), "-j", "mangle", "--mangle-ip-s", RequireIPv4(realIp, "real IP")];

    /// <summary>`-d a,b,c -j DROP`: the drop rules of many VIPs in one arptables-nft call (one rule per address).</summary>
    public static string[] InputDropSpec(IReadOnlyList<IPAddress> vips) =>
        ["-d", AddressList(vips, "virtual IP"), "-j", "DROP"];

    /// <summary>`-s a,b,c -j mangle --mangle-ip-s RIP`: the mangle rules of many VIPs with one real IP in one call.</summary>
    public static string[] OutputMangleSpec(IReadOnlyList<IPAddress> vips, IPAddress realIp) =>
        ["-s", AddressList(vips, "virtual IP"), "-j", "mangle", "--mangle-ip-s", RequireIPv4(realIp, "real IP")];

    /// <summary>`-A CHAIN spec…`, the form arptables-save prints and arptables-restore reads.</summary>
    public static string RuleLine(string chain, IEnumerable<string> spec) => $"-A {chain} {string.Join(' ', spec)}";

    /// <summary>
    /// Maps `arptables -V` to a flavor. Real strings: arptables-nft 1.8.9 prints "arptables v1.8.9 (nf_tables)",
    /// Debian's arptables-legacy prints "arptables v0.0.5"; arptables_jf reports 0.0.8.
    /// </summary>
    public static ArptablesFlavor DetectFromVersion(string versionOutput)
    {
        if (versionOutput.Contains("nf_tables", StringComparison.OrdinalIgnoreCase))
        {
            return ArptablesFlavor.Nft;
        }

        if (versionOutput.Contains("jf", StringComparison.OrdinalIgnoreCase) || JfVersion().IsMatch(versionOutput))
        {
            return ArptablesFlavor.Jf;
        }

        if (versionOutput.Contains("legacy", StringComparison.OrdinalIgnoreCase) || ArptablesVersion().IsMatch(versionOutput))
        {
            return ArptablesFlavor.Legacy;
        }

        throw new LvsException(LvsErrorKind.ParseError, $"Cannot tell the arptables flavor from its version output: '{versionOutput.Trim()}'", versionOutput);
    }

    private static string AddressList(IReadOnlyList<IPAddress> addresses, string role) =>
        string.Join(',', addresses.Select(a => RequireIPv4(a, role)));

    // arptables only speaks IPv4; an IPv6 VIP needs no ARP rules at all (neighbour discovery is per interface).
    private static string RequireIPv4(IPAddress address, string role) =>
        address.AddressFamily == AddressFamily.InterNetwork
            ? address.ToString()
            : throw new LvsException(LvsErrorKind.InvalidAddress, $"arptables rules need an IPv4 {role}, not {address}", address);
}
