using System.Net;

namespace LvsDirect.Core.Config;

/// <summary>How the director forwards packets to a real server (IPVS -g, -m, -i).</summary>
public enum LvsForwardingMethod
{
    Direct,
    Nat,
    Tunnel,
}

/// <summary>The director configuration formats Import-LvsConfig reads.</summary>
public enum LvsConfigFormat
{
    Auto,
    Keepalived,
    Piranha,
    Ipvsadm,
}

/// <summary>One real server of a virtual service, as the director's configuration names it.</summary>
public sealed class LvsRealServerEntry
{
    public required IPAddress Address { get; init; }

    public int Port { get; init; }

    public int Weight { get; init; } = 1;

    /// <summary>ipvsadm sets the method per real server; keepalived and Piranha per service (copied here).</summary>
    public LvsForwardingMethod ForwardingMethod { get; init; }

    public override string ToString() => LvsVirtualService.Endpoint(Address, Port);
}

/// <summary>A virtual service of an LVS director (output of Import-LvsConfig).</summary>
public sealed class LvsVirtualService
{
    /// <summary>The VIP; null for a firewall-mark service, which has no single VIP.</summary>
    public IPAddress? Address { get; init; }

    public int Port { get; init; }

    /// <summary>"tcp", "udp" or "sctp".</summary>
    public string Protocol { get; init; } = "tcp";

    public string? Scheduler { get; init; }

    /// <summary>
    /// The service's method. ipvsadm sets it per real server: there it is Direct when any real server is Direct
    /// (those are the ones that need VIPs), else the first real server's.
    /// </summary>
    public LvsForwardingMethod ForwardingMethod { get; init; }

    public int? FirewallMark { get; init; }

    /// <summary>The name the configuration gives the service (Piranha virtual, keepalived group), if any.</summary>
    public string? Name { get; init; }

    public required string SourceFile { get; init; }

    public int SourceLine { get; init; }

    public IReadOnlyList<LvsRealServerEntry> RealServers { get; init; } = [];

    /// <summary>"192.0.2.100:80", "[2001:db8::1]:80" or "fwmark 1".</summary>
    public string Endpoint() => FirewallMark is { } mark ? $"fwmark {mark}" : Endpoint(Address!, Port);

    public override string ToString() => $"{Protocol} {Endpoint()}";

    internal static string Endpoint(IPAddress address, int port) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
}
