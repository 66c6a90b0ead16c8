using System.Net;

namespace LvsDirect.Core.Model;

public enum RedirectProtocol
{
    Tcp,
    Udp,
}

/// <summary>
/// One iptables REDIRECT rule of the method that needs no VIP on the host at all: packets the director forwards
/// to VIP:port are handed to a local listener (on the address of the interface they came in on).
/// </summary>
public sealed class LvsRedirect
{
    public required IPAddress VirtualIP { get; init; }

    public required int Port { get; init; }

    public required RedirectProtocol Protocol { get; init; }

    /// <summary>The rule as `iptables -t nat -S PREROUTING` prints it.</summary>
    public string? Rule { get; init; }

    public override string ToString() => $"{Protocol.ToString().ToLowerInvariant()}/{VirtualIP}:{Port}";
}
