using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>
/// One check of Test-LvsRealServer: a pure function of the snapshot for one subject (a VIP, the host, a service),
/// with the reads it needs declared, so a probe on any transport reads what the checks that run look at.
/// </summary>
public interface IRealServerCheck
{
    /// <summary>The stable name in <see cref="RealServerCheck.Check"/> (see <see cref="CheckNames"/>).</summary>
    string Name { get; }

    /// <summary>What the check looks at on the host.</summary>
    HostReads Reads { get; }

    /// <summary>The results for <paramref name="subject"/>; none when the check does not apply to it.</summary>
    IEnumerable<RealServerCheck> Run(CheckContext context, CheckSubject subject);
}

/// <summary>What a check is run for: each VIP in turn, then the host once, then each service.</summary>
public abstract record CheckSubject;

/// <summary>The host as a whole (gateway, boot file, sysctl scope).</summary>
public sealed record HostSubject : CheckSubject
{
    public static HostSubject Instance { get; } = new();
}

/// <summary>A service whose VIP:port needs a listener.</summary>
public sealed record ServiceSubject(ServiceEndpoint Service) : CheckSubject;

/// <summary>How a VIP is configured, which decides the checks that apply to it.</summary>
public enum VipKind
{
    /// <summary>An IPv4 address on an interface (or missing from every one).</summary>
    Address,

    /// <summary>On no interface, by design: iptables REDIRECT rules hand its ports to local listeners.</summary>
    Redirect,

    /// <summary>An IPv6 VIP: neighbour discovery, not ARP.</summary>
    IPv6,
}

/// <summary>A VIP with what the snapshot says about it, computed once for all checks.</summary>
public sealed record VipSubject(IPAddress Vip, IReadOnlyList<InterfaceAddress> Live, PersistedAddress? Persisted, IReadOnlyList<RedirectRule> Redirects) : CheckSubject
{
    public string Target => Vip.ToString();

    public VipKind Kind => Vip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? VipKind.IPv6
        : Live.Count == 0 && Redirects.Count > 0 ? VipKind.Redirect
        : VipKind.Address;
}

/// <summary>The reads a check needs from a host (<see cref="RealServerReads"/> says how each is read).</summary>
[Flags]
public enum HostReads
{
    None = 0,

    /// <summary>Interfaces, addresses and routes (ip).</summary>
    Addresses = 1,

    /// <summary>The live arptables rules (root).</summary>
    ArpRules = 2,

    /// <summary>LvsDirect's nftables table arp lvsdirect (root).</summary>
    NftArp = 4,

    /// <summary>LvsDirect's iptables REDIRECT rules (root).</summary>
    Redirects = 8,

    /// <summary>arp_ignore, arp_announce and rp_filter of every IPv4 conf.</summary>
    Sysctls = 16,

    /// <summary>Listening sockets (ss).</summary>
    Listeners = 32,

    /// <summary>rc.local, LvsDirect's unit, the saved rules, the sysctl files and the nftables boot files.</summary>
    BootFiles = 64,

    /// <summary>Everything that says how ARP is suppressed live.</summary>
    LiveSuppression = ArpRules | NftArp | Sysctls,
}
