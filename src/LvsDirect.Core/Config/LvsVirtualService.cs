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

/// <summary>What a configuration is read with, where the director's own programs would read it differently.</summary>
public sealed class LvsConfigOptions
{
    /// <summary>
    /// keepalived's config id (its -i option), which decides its conditional lines: "@ID ..." is read only with
    /// that id, "@^ID ..." only without it. Null reads the file as a director whose id matches none of them.
    /// </summary>
    public string? ConfigId { get; init; }

    /// <summary>The services database through which Piranha turns port names ("port = http") into numbers.</summary>
    public string ServicesPath { get; init; } = "/etc/services";
}

/// <summary>One real server of a virtual service, as the director's configuration names it.</summary>
public sealed class LvsRealServerEntry
{
    public required IPAddress Address { get; init; }

    /// <summary>The IPv6 zone as the configuration writes it ("eth0" of fe80::1%eth0): it names the director's interface.</summary>
    public string? Zone { get; init; }

    public int Port { get; init; }

    public int Weight { get; init; } = 1;

    /// <summary>The method the director forwards to this real server with (ipvsadm and keepalived set it per real server).</summary>
    public LvsForwardingMethod ForwardingMethod { get; init; }

    /// <summary>keepalived's sorry_server: it takes the traffic when no real server is up, with the service's method.</summary>
    public bool IsSorryServer { get; init; }

    /// <summary>Why the method is not the one the configuration seems to ask for (a rejected lvs_method), for the skip warning.</summary>
    internal string? MethodNote { get; init; }

    public override string ToString() => LvsVirtualService.Endpoint(Address, Zone, Port);
}

/// <summary>A virtual service of an LVS director (output of Import-LvsConfig).</summary>
public sealed class LvsVirtualService
{
    /// <summary>The VIP; null for a firewall-mark service that names no address.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>The IPv6 zone as the configuration writes it, if any.</summary>
    public string? Zone { get; init; }

    public int Port { get; init; }

    /// <summary>"tcp", "udp" or "sctp".</summary>
    public string Protocol { get; init; } = "tcp";

    public string? Scheduler { get; init; }

    /// <summary>
    /// The service's method. ipvsadm sets it per real server: there it is Direct when any real server is Direct
    /// (those are the ones that need VIPs), else the first real server's. Import-LvsConfig returns only Direct.
    /// </summary>
    public LvsForwardingMethod ForwardingMethod { get; init; }

    /// <summary>The firewall mark; a Piranha virtual can have one and still name its VIP (Address).</summary>
    public int? FirewallMark { get; init; }

    /// <summary>The name the configuration gives the service (Piranha virtual, keepalived group), if any.</summary>
    public string? Name { get; init; }

    public required string SourceFile { get; init; }

    public int SourceLine { get; init; }

    public IReadOnlyList<LvsRealServerEntry> RealServers { get; init; } = [];

    /// <summary>Why the service's method is not the one the configuration seems to ask for, for the skip warning.</summary>
    internal string? MethodNote { get; init; }

    /// <summary>"192.0.2.100:80", "[2001:db8::1]:80", "fwmark 1", or "192.0.2.100:80 fwmark 1" (Piranha).</summary>
    public string Endpoint() => (Address, FirewallMark) switch
    {
        (null, var mark) => $"fwmark {mark}",
        (var a, null) => Endpoint(a, Zone, Port),
        (var a, var mark) => $"{Endpoint(a, Zone, Port)} fwmark {mark}",
    };

    public override string ToString() => $"{Protocol} {Endpoint()}";

    internal static string Endpoint(IPAddress address, int port) => Endpoint(address, null, port);

    internal static string Endpoint(IPAddress address, string? zone, int port)
    {
        var text = zone is null ? address.ToString() : $"{address}%{zone}";
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{text}]:{port}" : $"{text}:{port}";
    }
}
