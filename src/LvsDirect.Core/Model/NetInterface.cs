using System.Net;

namespace LvsDirect.Core.Model;

/// <summary>One address on an interface, as `ip -j addr show` reports it.</summary>
public sealed record InterfaceAddress(
    string InterfaceName,
    IPAddress Address,
    int PrefixLength,
    string? Label,
    IPAddress? Broadcast,
    string Scope,
    bool Secondary)
{
    /// <summary>"203.0.113.100/32".</summary>
    public string Cidr => $"{Address}/{PrefixLength}";

    /// <summary>The alias label (eth0:1), or null: iproute2 reports the interface name when there is none.</summary>
    public string? AliasLabel => Label == InterfaceName ? null : Label;
}

/// <summary>A network interface and its addresses.</summary>
public sealed record NetInterface(
    string Name,
    int Index,
    bool IsUp,
    string OperState,
    string? MacAddress,
    IReadOnlyList<InterfaceAddress> Addresses)
{
    /// <summary>
    /// The address the kernel uses as the interface's own IPv4 source: the first global, non-secondary IPv4
    /// address that is not itself a /32 (a /32 on the facing interface is almost always a VIP).
    /// </summary>
    public IPAddress? PrimaryIPv4 =>
        Addresses.FirstOrDefault(a => a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                                      && !a.Secondary && a.Scope == "global" && a.PrefixLength < 32)?.Address
        ?? Addresses.FirstOrDefault(a => a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                                         && !a.Secondary && a.Scope == "global")?.Address;
}

/// <summary>A default route: the interface it leaves by and the gateway, if any.</summary>
public sealed record DefaultRoute(string InterfaceName, IPAddress? Gateway, int Metric);
