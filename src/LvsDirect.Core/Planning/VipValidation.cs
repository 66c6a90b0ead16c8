using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;

namespace LvsDirect.Core.Planning;

/// <summary>
/// The addresses that cannot be VIPs, and the real IPs that cannot stand in for one in outgoing ARP. Each
/// refusal is a <see cref="PlanRefusal"/> naming the VIP, so a plan can drop that VIP and nothing else. The planner asks these before it plans a single step.
/// </summary>
public static class VipValidation
{
    // Once per snapshot: a batch checks every VIP against every subnet, which at 1000 VIPs would be quadratic.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<HostState, Dictionary<IPAddress, InterfaceAddress>> Broadcasts = new();

    /// <summary>Why <paramref name="vip"/> can be a VIP on no host at all (<see cref="LvsErrorKind.InvalidVip"/>), or null.</summary>
    public static PlanRefusal? RefuseClass(IPAddress vip)
    {
        var why = vip.AddressFamily == AddressFamily.InterNetwork ? IPv4Class(Ipv4.Value(vip)) : IPv6Class(vip);
        return why is null ? null : new PlanRefusal(LvsErrorKind.InvalidVip, vip, $"{vip} cannot be a VIP: {why}. Use a unicast address the director forwards to.");
    }

    /// <summary>Throws the refusal of <see cref="RefuseClass"/>: for input checked before any host is read.</summary>
    public static IPAddress RequireClass(IPAddress vip) => RefuseClass(vip) is { } refusal ? throw refusal : vip;

    /// <summary>
    /// Why <paramref name="vip"/> cannot be a VIP on this host, or null: its class, the host's own addresses, the
    /// broadcast address of one of its subnets, a gateway of its routes.
    /// </summary>
    public static PlanRefusal? Refuse(HostState state, IPAddress vip)
    {
        if (RefuseClass(vip) is { } refusal)
        {
            return refusal;
        }

        // Asked for every VIP of a call: a loop, not a lambda over the state (one closure per VIP).
        InterfaceAddress? own = null;
        foreach (var a in state.FindAddress(vip))
        {
            if (IsHostAddress(state, a))
            {
                own = a;
                break;
            }
        }

        if (own is not null)
        {
            var what = IsPrimary(state, own) ? "the primary address of" : "an address of this host's own subnet on";
            return new PlanRefusal(LvsErrorKind.HostAddress, vip,
                $"{vip} is {what} {own.InterfaceName} ({own.Cidr}), not a VIP: with its ARP suppressed, this host would stop answering ARP for itself. Choose an address no host on the segment has.");
        }

        if (Broadcasts.GetValue(state, BroadcastsOf).TryGetValue(vip, out var subnet))
        {
            return new PlanRefusal(LvsErrorKind.InvalidVip, vip,
                $"{vip} cannot be a VIP: it is the broadcast address of {subnet.Cidr} on {subnet.InterfaceName}, which every host of that subnet receives.");
        }

        if (state.Gateways.Contains(vip))
        {
            return new PlanRefusal(LvsErrorKind.GatewayAddress, vip,
                $"{vip} is a gateway of this host's routes, not a VIP: owning it would cut the host off from everything behind that router. Check the address; the director forwards VIPs, it is no gateway.");
        }

        return null;
    }

    /// <summary>
    /// Whether <paramref name="a"/> is an address this host lives on rather than a VIP: the primary address of a
    /// non-lo interface (a /32 one only while no ARP suppression names it), or any address wider than /32
    /// (/128) that no ARP suppression names. These are never added as VIPs, suppressed or removed.
    /// </summary>
    public static bool IsHostAddress(HostState state, InterfaceAddress a)
    {
        var primary = IsPrimary(state, a);
        if (primary && a.PrefixLength < 32)
        {
            return true;
        }

        var full = a.Address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        return (primary || a.PrefixLength < full) && state.SuppressionFor(a.Address) == SuppressionState.None;
    }

    /// <summary>
    /// Why <paramref name="request"/>'s real IP cannot be what outgoing ARP for its VIP names instead (it must be
    /// one of the host's own addresses on the interface ARP for the VIP leaves by), or null.
    /// </summary>
    public static PlanRefusal? RefuseRealIP(HostState state, SuppressionRequest request)
    {
        var (vip, rip, facing) = (request.VirtualIP, request.RealIP, request.FacingInterface);
        // Enumerated where it is asked, not copied: every VIP of a call names the same real IP.
        var held = state.FindAddress(rip);
        string? why = null;
        if (rip.Equals(IPAddress.Any))
        {
            why = "0.0.0.0 is no address";
        }
        else if (rip.Equals(vip))
        {
            why = "it is the VIP itself, which must never appear in ARP";
        }
        else if (!held.Any())
        {
            why = "this host has no such address";
        }
        else if (facing is not null && held.All(a => a.InterfaceName != facing))
        {
            var on = held.First().InterfaceName;
            why = $"it is on {on}, but ARP for {vip} leaves by {facing} (give -InterfaceName {on} if the VIP faces the director there)";
        }
        else if (!held.Any(a => IsHostAddress(state, a)))
        {
            why = "it is a VIP itself (its ARP is suppressed), not an address of the host's own";
        }

        if (why is null)
        {
            return null;
        }

        var own = (facing is null ? state.AllAddresses : state.FindInterface(facing)?.Addresses ?? [])
            .Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork && IsHostAddress(state, a))
            .Select(a => a.Address.ToString()).Distinct().ToList();
        var hint = own.Count > 0 ? $"Give one of {string.Join(", ", own)}, or leave -RealIP out for {facing ?? "the interface"}'s primary address." : "Leave -RealIP out.";
        return new PlanRefusal(LvsErrorKind.InvalidRealIP, vip, $"-RealIP {rip} cannot stand in for {vip} in outgoing ARP: {why}. {hint}");
    }

    private static bool IsPrimary(HostState state, InterfaceAddress a) =>
        a.InterfaceName != HostState.LoopbackInterface && a.Address.Equals(state.FindInterface(a.InterfaceName)?.PrimaryIPv4);

    private static Dictionary<IPAddress, InterfaceAddress> BroadcastsOf(HostState state)
    {
        var result = new Dictionary<IPAddress, InterfaceAddress>();
        foreach (var a in state.AllAddresses)
        {
            if (SubnetBroadcast(a) is { } broadcast)
            {
                result.TryAdd(broadcast, a);
            }
        }

        return result;
    }

    /// <summary>The broadcast address of an IPv4 subnet of /30 or wider (what ip reports, else the computed one); null otherwise.</summary>
    private static IPAddress? SubnetBroadcast(InterfaceAddress a)
    {
        if (a.Address.AddressFamily != AddressFamily.InterNetwork || a.PrefixLength > 30)
        {
            return null;
        }

        if (a.Broadcast is not null)
        {
            return a.Broadcast;
        }

        return Ipv4.Address(Ipv4.Value(a.Address) | (uint.MaxValue >> a.PrefixLength));
    }

    private static string? IPv4Class(uint a) => a switch
    {
        < 0x0100_0000 => "it is unspecified (0.0.0.0/8 means \"this host\", never a destination)",
        uint.MaxValue => "it is the limited broadcast address",
        >= 0x7F00_0000 and < 0x8000_0000 => "it is a loopback address (127.0.0.0/8)",
        >= 0xA9FE_0000 and < 0xA9FF_0000 => "it is link-local (169.254.0.0/16), which routers never forward",
        >= 0xE000_0000 and < 0xF000_0000 => "it is a multicast address (224.0.0.0/4)",
        >= 0xF000_0000 => "it is reserved (240.0.0.0/4)",
        _ => null,
    };

    private static string? IPv6Class(IPAddress a) =>
        a.Equals(IPAddress.IPv6Any) ? "it is unspecified (::)"
        : a.Equals(IPAddress.IPv6Loopback) ? "it is the loopback address (::1)"
        : a.IsIPv6LinkLocal ? "it is link-local (fe80::/10), which routers never forward"
        : a.IsIPv6Multicast ? "it is a multicast address (ff00::/8)"
        : a.IsIPv4MappedToIPv6 ? "it is an IPv4-mapped address (::ffff:0:0/96); give the IPv4 address itself"
        : null;
}
